"""Lever files: one-lever-at-a-time experiments around a baseline.

A lever file (``experiments/levers_oat.toml``) names a base scenario, the
outcomes to read and the levers to move. Each lever takes ``values`` evenly
spaced values across its range (the schema's min/max unless the file narrows
it) while every other parameter stays at the baseline; every point runs the
same seed blocks as the baseline, so each effect is a paired difference::

    [experiment]
    kind = "levers"
    name = "levers_oat"
    scenario = "baseline"
    seed = 6006
    steps = 120
    blocks = 5
    replicates = 4
    values = 5

    [params]
    n_citizens = 2000

    [outcomes]
    outcome_index = { column = "outcome_index", stat = "final" }
    inclusion_gap = { column = "inclusion_gap", stat = "final" }

    [levers]
    outreach = {}                             # 5 values across [0, 1] (the schema's range)
    voice_weight = { range = [0.0, 0.7] }     # narrowed: voice_weight + need_weight <= 1
    coordination_enabled = { values = [false, true] }

Problems are one :class:`~civsim.errors.UserError` line naming the file, the
key, the value and what is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from civsim import params as schema
from civsim.experiments.measures import Measure, parse_measure
from civsim.experiments.paired_spec import (
    PairedExperiment,
    load_paired_file,
    parse_base,
    parse_experiment_table,
    parse_level_and_scenario,
    parse_run_settings,
)
from civsim.experiments.tomlcheck import FileCheck

KIND = "levers"
_TOP = ("experiment", "params", "outcomes", "levers")
_EXPERIMENT = (
    "kind",
    "name",
    "description",
    "scenario",
    "seed",
    "steps",
    "blocks",
    "replicates",
    "values",
    "level",
)
_LEVER = ("range", "values")


@dataclass(frozen=True)
class Lever:
    """One lever and the values it takes.

    Attributes
    ----------
    name : str
        Parameter name.
    values : tuple
        Values run, ascending.
    baseline : Any
        Its value in the baseline.
    low, high : float or None
        The range the values span (None for explicit values).
    points : tuple of dict
        Resolved parameters at each value.
    """

    name: str
    values: tuple[Any, ...]
    baseline: Any
    low: float | None
    high: float | None
    points: tuple[dict[str, Any], ...]

    @property
    def strand(self) -> str:
        """The lever's strand (from the schema)."""
        return schema.SCHEMA[self.name].strand


@dataclass(frozen=True)
class LeverExperiment(PairedExperiment):
    """A validated lever file: the common settings (:class:`.PairedExperiment`), then the baseline,
    outcomes and levers."""

    resolved: dict[str, Any]
    outcomes: dict[str, Measure]
    levers: tuple[Lever, ...]


def load_levers(
    name_or_path: str | Path,
    *,
    blocks: int | None = None,
    replicates: int | None = None,
    steps: int | None = None,
    citizens: int | None = None,
) -> LeverExperiment:
    """Read and validate a lever file; keyword settings override the file's.

    Raises
    ------
    UserError
        One line naming the file, the key, the value and what is allowed.
    """
    return load_paired_file(
        name_or_path,
        "lever",
        parse_levers,
        blocks=blocks,
        replicates=replicates,
        steps=steps,
        citizens=citizens,
    )


def parse_levers(
    data: dict[str, Any],
    path: Path,
    text: str = "",
    *,
    blocks: int | None = None,
    replicates: int | None = None,
    steps: int | None = None,
    citizens: int | None = None,
) -> LeverExperiment:
    """Validate parsed TOML ``data`` of the lever file ``path`` (see :func:`load_levers`)."""
    check = FileCheck(path)
    exp = parse_experiment_table(check, data, KIND, _TOP, _EXPERIMENT)
    run = parse_run_settings(check, exp, path, blocks=blocks, replicates=replicates, steps=steps)
    n_values = check.integer("[experiment] values", exp.get("values", 5), 2, 101)
    level, scenario, start = parse_level_and_scenario(check, exp)
    base = {**start, **parse_base(check, data, citizens)}
    try:
        resolved = schema.resolve(base)
    except schema.ParamError as exc:
        raise check.fail("[params]", str(exc)) from None

    from civsim.experiments.spec import series_metrics

    raw_outcomes = check.table("[outcomes]", data.get("outcomes", {}))
    if not raw_outcomes:
        raise check.fail(
            "[outcomes]", "missing: name at least one outcome, e.g. outcome_index = { column = ... }"
        )
    known = series_metrics(resolved)
    outcomes = {
        key: parse_measure(check, f"[outcomes] {key}", value, known, tuple(resolved["domains"]), run["steps"])
        for key, value in raw_outcomes.items()
    }
    for key, m in outcomes.items():
        if m.needs_shock and resolved["shock_month"] < 0 and resolved["random_shock_rate"] == 0:
            raise check.fail(f"[outcomes] {key}", f"{m.summary} needs a shock, but the baseline has none")

    raw_levers = check.table("[levers]", data.get("levers", {}))
    if not raw_levers:
        raise check.fail("[levers]", "missing: list at least one lever, e.g. outreach = {}")
    levers = tuple(
        _parse_lever(check, key, value, base, resolved, n_values) for key, value in raw_levers.items()
    )
    return LeverExperiment(
        **run,
        path=path,
        text=text,
        scenario=scenario,
        level=level,
        base=base,
        resolved=resolved,
        outcomes=outcomes,
        levers=levers,
    )


def _parse_lever(
    check: FileCheck, key: str, raw: Any, base: dict[str, Any], resolved: dict[str, Any], n: int
) -> Lever:
    where = f"[levers] {key}"
    if key not in schema.SCHEMA:
        raise check.fail(
            where, f"unknown parameter {key!r}{schema.suggest(key)}; run `civsim params` to list them"
        )
    p = schema.SCHEMA[key]
    if p.structural or p.type == "list":
        raise check.fail(
            where, f"{key} shapes the world (structural): it cannot be a lever of a paired experiment"
        )
    table = {} if raw is True else check.table(where, raw)
    check.keys(where, table, _LEVER)
    if "range" in table and "values" in table:
        raise check.fail(where, "give at most one of range = [low, high] or values = [...]")
    low = high = None
    if "values" in table:
        vals = table["values"]
        if not isinstance(vals, list) or len(vals) < 2:
            raise check.fail(
                f"{where}.values", f"{vals!r} is not allowed: expected a list of at least two values"
            )
        values = [check.param(f"{where}.values[{i}]", key, v) for i, v in enumerate(vals)]
    elif p.type == "bool":
        values = [False, True]
    elif p.type == "choice":
        values = list(p.choices)
    else:
        low, high = float(p.min), float(p.max)
        if "range" in table:
            rng = table["range"]
            if not (isinstance(rng, list) and len(rng) == 2):
                raise check.fail(
                    f"{where}.range", f"{rng!r} is not allowed: expected [low, high], two numbers"
                )
            low = float(check.param(f"{where}.range[0]", key, rng[0]))
            high = float(check.param(f"{where}.range[1]", key, rng[1]))
            if not low < high:
                raise check.fail(f"{where}.range", f"{rng!r} is not allowed: low must be below high")
        grid = np.linspace(low, high, n)
        values = [int(round(v)) for v in grid] if p.type == "int" else [round(float(v), 12) for v in grid]
    if p.type in ("float", "int"):
        values = sorted(set(values))
    elif len(set(values)) != len(values):
        raise check.fail(f"{where}.values", f"{values!r} is not allowed: values must be distinct")
    points = []
    for v in values:
        try:
            points.append(schema.resolve({**base, key: v}))
        except schema.ParamError as exc:
            raise check.fail(f"{where} = {v!r}", f"{exc} (narrow the lever's range = [low, high])") from None
    return Lever(key, tuple(values), resolved[key], low, high, tuple(points))
