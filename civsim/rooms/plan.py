"""Decisions as changes to a running model, and the decisions file that replays them.

A room turns each round's seat decisions into :class:`Change` records (which
lever, what value, from which month, for which agencies). The same
:func:`apply_change` puts them into a :class:`civsim.batch.BatchModel` in a
live room, in a replay with other seeds and in ``civsim run --decisions``, so
a session is reproduced by one code path. A change is applied through the
schema's parameters (``model.P``) and the model's own interventions
(``model.intervene``): nothing here restates a rule of the model.

The decisions file is TOML::

    # civsim decisions
    format = 1
    [[seat]]            # who sat where (for the debrief; not needed to replay)
    id = "council"
    title = "Council leader"
    [[decision]]        # what each seat chose, round by round
    round = 1
    month = 0
    seat = "council"
    lever = "convening_funds"
    value = 0.05
    [[change]]          # what the model got: applied before the step of `month`
    month = 0
    lever = "convening_funds"
    value = 0.05
    agencies = []       # empty: everywhere; else only these agencies (0-based)
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from civsim.errors import UserError
from civsim.params import SCHEMA, ParamError

FORMAT = 1

INTERVENTION_FOR: dict[str, str] = {"convening_funds": "convene", "network_grants": "fund_networks"}
"""Levers the batch core already has a live intervention for (it also keeps its log)."""

PER_AGENCY: dict[str, str] = {"coproduction_openness": "openness"}
"""Levers with one value per agency in the running model (the model attribute)."""


@dataclass(frozen=True)
class Change:
    """Set ``lever`` to ``value`` before the step of ``month`` (only for ``agencies`` if given)."""

    month: int
    lever: str
    value: float
    agencies: tuple[int, ...] = ()
    seat: str = ""


@dataclass(frozen=True)
class Decision:
    """What one seat chose for one lever in one round."""

    round: int
    month: int
    seat: str
    lever: str
    value: float


def apply_change(model: Any, change: Change) -> None:
    """Apply one change to a running :class:`~civsim.batch.BatchModel` (every run of its batch).

    Convening and grants go through ``model.intervene`` (as the Workshop's
    buttons do); openness for some agencies writes those agencies' openness
    (as the ``open_coproduction`` intervention does for all); every other
    lever sets the schema parameter in ``model.P``, which the core reads at
    each step.
    """
    value = float(change.value)
    if change.lever in PER_AGENCY and change.agencies:
        arr = getattr(model, PER_AGENCY[change.lever])
        arr[:, list(change.agencies)] = value  # in place: the model's agency table shares this array
        return
    if change.lever == "coproduction_openness":
        model.intervene("open_coproduction", value)
        model.P[change.lever] = np.full(model.B, value)
        return
    if change.lever in INTERVENTION_FOR:
        model.intervene(INTERVENTION_FOR[change.lever], value)
        return
    model.P[change.lever] = np.full(model.B, value, dtype=model.P[change.lever].dtype)


def apply_due(model: Any, changes: Iterable[Change]) -> int:
    """Apply the changes due at ``model.month`` (in file order); return how many."""
    n = 0
    for ch in changes:
        if ch.month == model.month:
            apply_change(model, ch)
            n += 1
    return n


class Plan:
    """Changes by month, as a ``before_step`` hook for :func:`civsim.simulate.simulate`."""

    def __init__(self, changes: Iterable[Change]):
        self.changes = list(changes)

    def __call__(self, model: Any) -> None:
        apply_due(model, self.changes)

    @property
    def last_month(self) -> int:
        return max((c.month for c in self.changes), default=-1)


# ---------------------------------------------------------------------------
# the file


def _q(s: str) -> str:
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def decisions_toml(
    seats: Iterable[tuple[str, str]], decisions: Iterable[Decision], changes: Iterable[Change], note: str = ""
) -> str:
    """The decisions file (see the module docstring) as text."""
    lines = [
        "# civsim decisions: replay with  civsim run SCENARIO.toml --decisions THIS_FILE",
        f"format = {FORMAT}",
    ]
    if note:
        lines.append(f"note = {_q(note)}")
    for sid, title in seats:
        lines += ["", "[[seat]]", f"id = {_q(sid)}", f"title = {_q(title)}"]
    for d in decisions:
        lines += [
            "",
            "[[decision]]",
            f"round = {d.round}",
            f"month = {d.month}",
            f"seat = {_q(d.seat)}",
            f"lever = {_q(d.lever)}",
            f"value = {float(d.value)!r}",
        ]
    for c in changes:
        lines += [
            "",
            "[[change]]",
            f"month = {c.month}",
            f"lever = {_q(c.lever)}",
            f"value = {float(c.value)!r}",
            f"agencies = [{', '.join(str(a) for a in c.agencies)}]",
        ]
        if c.seat:
            lines.append(f"seat = {_q(c.seat)}")
    return "\n".join(lines) + "\n"


def parse_decisions(text: str, source: str, n_agencies: int | None = None, steps: int | None = None) -> Plan:
    """Read a decisions file; every problem is a one-line :class:`UserError` naming file, key and value."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{source}: invalid TOML: {exc}") from None
    allowed = ("format", "note", "seat", "decision", "change")
    for key in data:
        if key not in allowed:
            raise UserError(f"{source}: unknown key {key!r}; allowed: {', '.join(allowed)}")
    if data.get("format", FORMAT) != FORMAT:
        raise UserError(f"{source}: format = {data.get('format')!r} is not allowed: expected {FORMAT}")
    raw = data.get("change", [])
    if not isinstance(raw, list):
        raise UserError(f"{source}: change = {raw!r} is not allowed: expected [[change]] tables")
    changes = []
    for i, row in enumerate(raw):
        where = f"{source}: [[change]] #{i + 1}"
        if not isinstance(row, dict):
            raise UserError(f"{where}: expected a table")
        for key in row:
            if key not in ("month", "lever", "value", "agencies", "seat"):
                raise UserError(f"{where}: unknown key {key!r}; allowed: month, lever, value, agencies, seat")
        month = row.get("month")
        if (
            isinstance(month, bool)
            or not isinstance(month, int)
            or month < 0
            or (steps is not None and month >= steps)
        ):
            hi = f" below {steps} (the run's months)" if steps is not None else ""
            raise UserError(f"{where}: month = {month!r} is not allowed: expected an integer >= 0{hi}")
        lever = row.get("lever")
        if (
            lever not in SCHEMA
            or SCHEMA[lever].structural
            or SCHEMA[lever].type not in ("float", "int", "bool")
        ):
            raise UserError(
                f"{where}: lever = {lever!r} is not allowed: expected a non-structural numeric parameter "
                "(see `civsim params`)"
            )
        try:
            value = float(SCHEMA[lever].coerce(row.get("value")))
        except ParamError as exc:
            raise UserError(f"{where}: {exc}") from None
        agencies = row.get("agencies", [])
        ok = isinstance(agencies, list) and all(
            isinstance(a, int)
            and not isinstance(a, bool)
            and a >= 0
            and (n_agencies is None or a < n_agencies)
            for a in agencies
        )
        if not ok or (agencies and lever not in PER_AGENCY):
            what = (
                f"a list of agency numbers in [0, {n_agencies - 1}]"
                if n_agencies
                else "a list of agency numbers"
            )
            if agencies and lever not in PER_AGENCY:
                what = f"[] ({lever} has one value for the whole locality)"
            raise UserError(f"{where}: agencies = {agencies!r} is not allowed: expected {what}")
        changes.append(Change(month, lever, value, tuple(agencies), str(row.get("seat", ""))))
    changes.sort(key=lambda c: c.month)  # stable: file order within a month
    return Plan(changes)


def load_decisions(path: str | Path, n_agencies: int | None = None, steps: int | None = None) -> Plan:
    """Read a decisions file from disk (see :func:`parse_decisions`)."""
    p = Path(path)
    if not p.is_file():
        raise UserError(f"{path}: file not found")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read file ({exc})") from None
    return parse_decisions(text, str(path), n_agencies, steps)


__all__ = [
    "Change",
    "Decision",
    "Plan",
    "apply_change",
    "apply_due",
    "decisions_toml",
    "load_decisions",
    "parse_decisions",
]
