"""The decisions file of a workshop room: writing it from a session and reading it for a replay.

The format is described in :mod:`civsim.rooms.plan` (whose :class:`~civsim.rooms.plan.Change`
records the file holds); ``civsim run SCENARIO --decisions FILE`` reads it with
:func:`load_decisions`. Every problem in a file is a one-line :class:`~civsim.errors.UserError`
naming the file, the entry, the key, the value and what is allowed.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from civsim.errors import UserError
from civsim.params import SCHEMA, ParamError
from civsim.rooms import choices
from civsim.rooms.plan import PER_AGENCY, Change, Decision, Plan

FORMAT = 1
"""The file's format (seat choices extended it compatibly: format-1 files still read)."""


def _q(s: str) -> str:
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _ints(xs: Iterable[int]) -> str:
    return "[" + ", ".join(str(int(x)) for x in xs) + "]"


def _value(v: Any) -> str:
    """A decision's value in TOML: a number, a string or a list of strings."""
    if isinstance(v, str):
        return _q(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_q(x) for x in v) + "]"
    return repr(float(v))


def _choice_lines(c: Change, domains: tuple[str, ...]) -> list[str]:
    lines = [f"month = {c.month}", f"lever = {_q(c.lever)}"]
    if c.lever in (choices.AGENCY_PARTNERS, choices.AGENCY_FOCUS):
        lines.append(f"agencies = {_ints(c.agencies)}")
    else:
        lines.append(f"neighbourhoods = {_ints(c.hoods)}")
    if c.lever == choices.AGENCY_PARTNERS:
        lines.append(f"partners = {_ints(c.partners)}")
    elif c.lever == choices.NETWORK_ALLIES:
        lines += [f"ally_agencies = {_ints(c.partners)}", f"ally_neighbourhoods = {_ints(c.ally_hoods)}"]
    else:
        lines.append(f"domain = {_q(domains[int(c.value)] if c.value >= 0 else '')}")
    return lines


def decisions_toml(
    seats: Iterable[tuple[str, str]],
    decisions: Iterable[Decision],
    changes: Iterable[Change],
    note: str = "",
    domains: tuple[str, ...] = (),
) -> str:
    """The decisions file (see the module docstring) as text; ``domains`` names the focus choices' domains."""
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
            f"value = {_value(d.value)}",
        ]
    for c in changes:
        if c.lever in choices.NAMES:
            lines += ["", "[[change]]", *_choice_lines(c, domains)]
            if c.seat:
                lines.append(f"seat = {_q(c.seat)}")
            continue
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


def _month(row: dict, where: str, steps: int | None) -> int:
    month = row.get("month")
    if (
        isinstance(month, bool)
        or not isinstance(month, int)
        or month < 0
        or (steps is not None and month >= steps)
    ):
        hi = f" below {steps} (the run's months)" if steps is not None else ""
        raise UserError(f"{where}: month = {month!r} is not allowed: expected an integer >= 0{hi}")
    return month


CHOICE_KEYS: dict[str, tuple[str, ...]] = {
    choices.AGENCY_PARTNERS: ("agencies", "partners"),
    choices.AGENCY_FOCUS: ("agencies", "domain"),
    choices.NETWORK_FOCUS: ("neighbourhoods", "domain"),
    choices.NETWORK_ALLIES: ("neighbourhoods", "ally_agencies", "ally_neighbourhoods"),
}
"""The keys of a seat choice's ``[[change]]`` row, besides month, lever and seat."""


def _parse_choice(
    row: dict, where: str, month: int, n_agencies: int | None, n_hoods: int | None, domains: tuple[str, ...]
) -> Change:
    lever = row["lever"]
    keys = ("month", "lever", "seat") + CHOICE_KEYS[lever]
    for key in row:
        if key not in keys:
            raise UserError(f"{where}: unknown key {key!r} for lever {lever}; allowed: {', '.join(keys)}")
    got: dict[str, Any] = {}
    for key in CHOICE_KEYS[lever]:
        v = row.get(key, "" if key == "domain" else [])
        if key == "domain":
            if v != "" and v not in domains:
                raise UserError(
                    f'{where}: domain = {v!r} is not allowed: expected one of {", ".join(domains)} or ""'
                )
            got[key] = float(domains.index(v)) if v else -1.0
            continue
        n = n_hoods if key.endswith("neighbourhoods") else n_agencies
        ok = isinstance(v, list) and all(
            isinstance(x, int) and not isinstance(x, bool) and x >= 0 and (n is None or x < n) for x in v
        )
        if not ok:
            what = "neighbourhood" if key.endswith("neighbourhoods") else "agency"
            rng = f" in [0, {n - 1}]" if n else ""
            raise UserError(f"{where}: {key} = {v!r} is not allowed: expected a list of {what} numbers{rng}")
        got[key] = tuple(v)
    return Change(
        month,
        lever,
        got.get("domain", 0.0),
        got.get("agencies", ()),
        str(row.get("seat", "")),
        hoods=got.get("neighbourhoods", ()),
        partners=got.get("partners", got.get("ally_agencies", ())),
        ally_hoods=got.get("ally_neighbourhoods", ()),
    )


def parse_decisions(
    text: str,
    source: str,
    n_agencies: int | None = None,
    steps: int | None = None,
    n_hoods: int | None = None,
    domains: tuple[str, ...] | None = None,
) -> Plan:
    """Read a decisions file; every problem is a one-line :class:`UserError` naming file, key and value.

    ``n_agencies``, ``steps``, ``n_hoods`` and ``domains`` (default: the
    schema's domains) describe the run it is for; numbers and domains are
    checked against them.
    """
    if domains is None:
        domains = tuple(SCHEMA["domains"].default)
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
        month = _month(row, where, steps)
        if row.get("lever") in choices.NAMES:
            changes.append(_parse_choice(row, where, month, n_agencies, n_hoods, domains))
            continue
        for key in row:
            if key not in ("month", "lever", "value", "agencies", "seat"):
                raise UserError(f"{where}: unknown key {key!r}; allowed: month, lever, value, agencies, seat")
        lever = row.get("lever")
        if (
            lever not in SCHEMA
            or SCHEMA[lever].structural
            or SCHEMA[lever].type not in ("float", "int", "bool")
        ):
            raise UserError(
                f"{where}: lever = {lever!r} is not allowed: expected a non-structural numeric parameter "
                f"(see `civsim params`) or one of {', '.join(choices.NAMES)}"
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


def load_decisions(
    path: str | Path,
    n_agencies: int | None = None,
    steps: int | None = None,
    n_hoods: int | None = None,
    domains: tuple[str, ...] | None = None,
) -> Plan:
    """Read a decisions file from disk (see :func:`parse_decisions`)."""
    p = Path(path)
    if not p.is_file():
        raise UserError(f"{path}: file not found")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read file ({exc})") from None
    return parse_decisions(text, str(path), n_agencies, steps, n_hoods, domains)


__all__ = ["FORMAT", "decisions_toml", "load_decisions", "parse_decisions"]
