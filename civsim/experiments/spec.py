"""Experiment files: parse and validate ``experiments/*.toml``.

An experiment file names a base scenario, the factors to vary, a design
(full grid, list, Latin hypercube, Sobol/Saltelli or Morris), replicates,
steps, the metrics to record and a seed. Every problem is reported as one
:class:`civsim.errors.UserError` line naming the file, the key, the value and
what is allowed (the CLI prints it and exits with status 2).

See ``docs/experiments.md`` for the format, with an example.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from civsim import params as schema
from civsim import safeio
from civsim.errors import UserError
from civsim.scenario import MAX_SEED

DESIGN_KINDS: tuple[str, ...] = ("grid", "list", "lhs", "sobol", "morris")
"""Allowed values of ``[design] kind``."""

KEEP_KINDS: tuple[str, ...] = ("summary", "series")
"""Allowed values of ``[output] keep``: one row per run, or per run and step."""

SERIES_METRICS: tuple[str, ...] = (
    "outcome_index",
    "outcome_index_council",
    "inclusion_gap",
    "engagement",
    "trust",
    "budget",
    "networks",
    "alliances",
    "coordination_density",
    "gain_per_spend",
)
"""Metrics the engines record each step (columns of ``BatchModel.frame()``)."""

DEFAULT_METRICS: tuple[str, ...] = (
    "outcome_index",
    "inclusion_gap",
    "engagement",
    "trust",
    "budget",
    "coordination_density",
    "alliances",
)
"""Metrics recorded when ``[output] metrics`` is not given."""

_TOP_KEYS = ("experiment", "params", "factors", "design", "output")
_EXPERIMENT_KEYS = ("name", "description", "scenario", "seed", "steps", "replicates", "chunk_size")
_OUTPUT_KEYS = ("keep", "metrics", "every")
_FACTOR_KEYS = ("values", "range", "num")
_DESIGN_KEYS: dict[str, tuple[str, ...]] = {
    "grid": ("kind",),
    "list": ("kind",),
    "lhs": ("kind", "samples"),
    "sobol": ("kind", "samples", "second_order"),
    "morris": ("kind", "trajectories", "levels"),
}
MAX_STEPS = 100_000
MAX_RUNS = 10_000_000


@dataclass(frozen=True)
class Factor:
    """One parameter varied by an experiment.

    Attributes
    ----------
    name : str
        Parameter name (a key of :data:`civsim.params.SCHEMA`).
    type : str
        The parameter's type (``"float"``, ``"int"``, ``"bool"``, ``"choice"``).
    values : tuple or None
        Explicit values (already validated), or None for a range.
    low, high : float or None
        Bounds of a range factor (both validated against the schema).
    num : int or None
        Number of evenly spaced grid values across a range (grid design only).
    """

    name: str
    type: str
    values: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    num: int | None = None

    @property
    def is_range(self) -> bool:
        """True for a continuous ``range = [low, high]`` factor."""
        return self.values is None

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready description (used in the manifest and the hash)."""
        if self.is_range:
            out: dict[str, Any] = {"name": self.name, "type": self.type, "range": [self.low, self.high]}
            if self.num is not None:
                out["num"] = self.num
            return out
        return {"name": self.name, "type": self.type, "values": list(self.values or ())}


@dataclass(frozen=True)
class DesignSpec:
    """The ``[design]`` table.

    Attributes
    ----------
    kind : str
        One of :data:`DESIGN_KINDS`.
    samples : int or None
        Latin hypercube points, or the Sobol base sample size N (a power of
        2; Saltelli's scheme makes N (D + 2) points, N (2D + 2) with second
        order).
    second_order : bool
        Sobol only: also sample for second-order indices.
    trajectories : int or None
        Morris only: number of trajectories (r); makes r (D + 1) points.
    levels : int
        Morris only: number of grid levels (p, even).
    """

    kind: str
    samples: int | None = None
    second_order: bool = False
    trajectories: int | None = None
    levels: int = 4

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready description of the settings that apply to ``kind``."""
        out: dict[str, Any] = {"kind": self.kind}
        if self.kind in ("lhs", "sobol"):
            out["samples"] = self.samples
        if self.kind == "sobol":
            out["second_order"] = self.second_order
        if self.kind == "morris":
            out["trajectories"] = self.trajectories
            out["levels"] = self.levels
        return out


@dataclass(frozen=True)
class OutputSpec:
    """The ``[output]`` table.

    Attributes
    ----------
    keep : str
        ``"summary"`` (one row per run) or ``"series"`` (one row per run per
        recorded step).
    metrics : tuple of str
        Metrics to keep (names from :data:`SERIES_METRICS`); in summary mode
        every per-run summary derived from them is kept.
    every : int
        Series only: record every ``every``-th step (the last step always).
    """

    keep: str = "summary"
    metrics: tuple[str, ...] = DEFAULT_METRICS
    every: int = 1

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready description."""
        return {"keep": self.keep, "metrics": list(self.metrics), "every": self.every}


@dataclass(frozen=True)
class Experiment:
    """A validated experiment file.

    Attributes
    ----------
    name, description : str
        Title and one-paragraph purpose.
    path : pathlib.Path
        The file it came from.
    text : str
        The file's text, as read (recorded in the manifest).
    scenario : str or None
        Base scenario preset or path, or None for the defaults.
    base : dict
        Parameter overrides of the base (scenario, then ``[params]``); every
        point starts from these.
    factors : tuple of Factor
        The parameters varied.
    design : DesignSpec
        How points are chosen.
    replicates, steps, seed : int
        Runs per point, months per run and the experiment seed.
    chunk_size : int or None
        Runs batched together per chunk (None: chosen from the model size).
    output : OutputSpec
        What is recorded.
    """

    name: str
    description: str
    path: Path
    text: str
    scenario: str | None
    base: dict[str, Any]
    factors: tuple[Factor, ...]
    design: DesignSpec
    replicates: int
    steps: int
    seed: int
    chunk_size: int | None
    output: OutputSpec = field(default_factory=OutputSpec)

    @property
    def factor_names(self) -> tuple[str, ...]:
        """Names of the factors, in file order."""
        return tuple(f.name for f in self.factors)


class _Ctx:
    """Builds error messages that name the file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, msg: str) -> UserError:
        return UserError(f"{self.path}: {where}: {msg}")


def _hint(name: str, allowed: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(name, list(allowed), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_keys(ctx: _Ctx, where: str, table: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for key in table:
        if key not in allowed:
            raise ctx.fail(
                where,
                f"unknown key {key!r}{_hint(key, allowed)}; allowed keys: {', '.join(allowed)}",
            )


def _int(ctx: _Ctx, where: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ctx.fail(where, f"{value!r} is not allowed: expected an integer in [{lo}, {hi}]")
    return value


def _str(ctx: _Ctx, where: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ctx.fail(where, f"{value!r} is not allowed: expected a string")
    return value


_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$")


def _name(ctx: _Ctx, value: Any) -> str:
    """An experiment name: it becomes the directory ``runs/<name>``, so it may not be a path."""
    name = _str(ctx, "[experiment] name", value)
    if not _NAME.match(name) or ".." in name:
        shown = repr(name) if len(name) <= 60 else repr(name[:56]) + "..."
        raise ctx.fail(
            "[experiment] name",
            f"{shown} is not allowed: expected 1-100 letters, digits, '_', '-' or '.' "
            "(not starting with '.' or '-', no '..'); it names the directory runs/<name>",
        )
    return name


def _table(ctx: _Ctx, where: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ctx.fail(
            where, f"{value!r} is not allowed: expected a table ([{where}] or {where} = {{ ... }})"
        )
    return value


def find_experiment(name_or_path: str | Path) -> Path:
    """Locate an experiment file by path, or by name in ``./experiments/``.

    Raises
    ------
    UserError
        When no such file exists (the message lists the shipped experiments).
    """
    raw = str(name_or_path)
    if not raw.strip():
        raise UserError("experiment file '' not found: give a path or the name of a file in ./experiments")
    p = Path(raw)
    if os.path.lexists(p):
        return p  # read_text says what is wrong with a directory, FIFO or device
    if p.suffix == "" and "/" not in raw and (Path("experiments") / f"{p}.toml").is_file():
        return Path("experiments") / f"{p}.toml"
    shipped = sorted(q.stem for q in Path("experiments").glob("*.toml"))
    listing = f"; experiments in ./experiments: {', '.join(shipped)}" if shipped else ""
    raise UserError(f"experiment file {str(name_or_path)!r} not found{listing}")


def load_experiment(name_or_path: str | Path) -> Experiment:
    """Read and validate an experiment file.

    Parameters
    ----------
    name_or_path : str or pathlib.Path
        A path to a TOML file, or the name of one in ``./experiments/``.

    Returns
    -------
    Experiment
        The validated experiment (design points are made by
        :func:`civsim.experiments.designs.build_design`).

    Raises
    ------
    UserError
        One line naming the file, the key, the value and what is allowed.
    """
    path = find_experiment(name_or_path)
    text, data = safeio.load_file(path, invalid="not valid TOML")
    return parse_experiment(data, path, text)


def parse_experiment(data: dict[str, Any], path: Path, text: str = "") -> Experiment:
    """Validate the parsed TOML ``data`` of the experiment file ``path``.

    Raises
    ------
    UserError
        One line naming the file, the key, the value and what is allowed.
    """
    ctx = _Ctx(path)
    for key in data:
        if key not in _TOP_KEYS:
            raise ctx.fail(
                "top level",
                f"unknown table {key!r}{_hint(key, _TOP_KEYS)}; "
                f"allowed: {', '.join('[' + k + ']' for k in _TOP_KEYS)}",
            )
    if "experiment" not in data:
        raise ctx.fail("top level", "missing the [experiment] table (name, seed, steps, replicates, ...)")
    exp = _table(ctx, "experiment", data["experiment"])
    _check_keys(ctx, "[experiment]", exp, _EXPERIMENT_KEYS)

    name = _name(ctx, exp.get("name", path.stem))
    description = _str(ctx, "[experiment] description", exp.get("description", ""))
    if "seed" not in exp:
        raise ctx.fail("[experiment] seed", "missing: every experiment needs a seed (a non-negative integer)")
    seed = _int(ctx, "[experiment] seed", exp["seed"], 0, MAX_SEED)
    replicates = _int(ctx, "[experiment] replicates", exp.get("replicates", 1), 1, 100_000)
    chunk_size = exp.get("chunk_size")
    if chunk_size is not None:
        chunk_size = _int(ctx, "[experiment] chunk_size", chunk_size, 1, 100_000)

    scenario_name = exp.get("scenario")
    base: dict[str, Any] = {}
    default_steps = None
    if scenario_name is not None:
        scenario_name = _str(ctx, "[experiment] scenario", scenario_name)
        scen = _load_scenario(ctx, path, scenario_name)
        base.update(scen.params)
        default_steps = getattr(scen, "steps", None)
    if "steps" in exp:
        steps = _int(ctx, "[experiment] steps", exp["steps"], 1, MAX_STEPS)
    elif default_steps is not None:
        steps = int(default_steps)
    else:
        raise ctx.fail(
            "[experiment] steps", "missing: give the number of steps (months) per run, e.g. steps = 120"
        )

    overrides = _table(ctx, "params", data.get("params", {}))
    for key, value in overrides.items():
        base[key] = _param(ctx, f"[params] {key}", key, value)
    try:
        resolved_base = schema.resolve(base)
    except schema.ParamError as exc:
        raise ctx.fail("[params]", str(exc)) from None

    factors = _parse_factors(ctx, _table(ctx, "factors", data.get("factors", {})))
    design = _parse_design(ctx, data.get("design", {"kind": "grid"}), factors)
    output = _parse_output(ctx, _table(ctx, "output", data.get("output", {})), series_metrics(resolved_base))
    n_points = count_points(design, factors)
    if n_points * replicates > MAX_RUNS:
        raise ctx.fail(
            f"[design] (kind = {design.kind!r})",
            f"makes {n_points:,} points x {replicates:,} replicates = {n_points * replicates:,} runs; "
            f"at most {MAX_RUNS:,} runs are allowed",
        )
    return Experiment(
        name=name,
        description=description,
        path=path,
        text=text,
        scenario=scenario_name,
        base=base,
        factors=factors,
        design=design,
        replicates=replicates,
        steps=steps,
        seed=seed,
        chunk_size=chunk_size,
        output=output,
    )


def _load_scenario(ctx: _Ctx, path: Path, name: str) -> Any:
    from civsim.scenario import load_scenario  # the engine side; imported lazily

    target = name
    if name.endswith(".toml") or "/" in name:
        rel = (path.parent / name).resolve()
        target = str(rel) if rel.is_file() else name
    try:
        return load_scenario(target)
    except UserError as exc:
        raise ctx.fail("[experiment] scenario", str(exc)) from None


def _param(ctx: _Ctx, where: str, name: str, value: Any) -> Any:
    try:
        return schema.check(name, value)
    except schema.ParamError as exc:
        raise ctx.fail(where, str(exc)) from None


def _parse_factors(ctx: _Ctx, table: dict[str, Any]) -> tuple[Factor, ...]:
    out = []
    for name, spec in table.items():
        where = f"[factors] {name}"
        if name not in schema.SCHEMA:
            raise ctx.fail(
                where, f"unknown parameter {name!r}{schema.suggest(name)}; run `civsim params` to list them"
            )
        p = schema.SCHEMA[name]
        if p.type == "list":
            raise ctx.fail(where, f"{name} is a list parameter and cannot be a factor; set it in [params]")
        if isinstance(spec, list):
            spec = {"values": spec}
        if not isinstance(spec, dict):
            raise ctx.fail(
                where,
                f"{spec!r} is not allowed: expected a list of values, or a table "
                "{ values = [...] } or { range = [low, high], num = n }",
            )
        _check_keys(ctx, where, spec, _FACTOR_KEYS)
        if ("values" in spec) == ("range" in spec):
            raise ctx.fail(where, "give exactly one of values = [...] or range = [low, high]")
        if "values" in spec:
            if "num" in spec:
                raise ctx.fail(f"{where}.num", "num goes with range = [low, high], not with values")
            values = spec["values"]
            if not isinstance(values, list) or not values:
                raise ctx.fail(f"{where}.values", f"{values!r} is not allowed: expected a non-empty list")
            checked = tuple(_param(ctx, f"{where}.values[{i}]", name, v) for i, v in enumerate(values))
            if len(set(checked)) != len(checked):
                raise ctx.fail(f"{where}.values", f"{values!r} is not allowed: values must be distinct")
            out.append(Factor(name, p.type, values=checked))
        else:
            rng = spec["range"]
            if p.type not in ("float", "int"):
                raise ctx.fail(
                    f"{where}.range",
                    f"{name} is a {p.type} parameter: use values = [...] ({p.allowed()}), not a range",
                )
            if (
                not isinstance(rng, list)
                or len(rng) != 2
                or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in rng)
            ):
                raise ctx.fail(f"{where}.range", f"{rng!r} is not allowed: expected [low, high], two numbers")
            low = _param(ctx, f"{where}.range[0]", name, rng[0])
            high = _param(ctx, f"{where}.range[1]", name, rng[1])
            if not low < high:
                raise ctx.fail(f"{where}.range", f"{rng!r} is not allowed: low must be below high")
            num = spec.get("num")
            if num is not None:
                num = _int(ctx, f"{where}.num", num, 2, 100_000)
            out.append(Factor(name, p.type, low=float(low), high=float(high), num=num))
    return tuple(out)


def _parse_design(ctx: _Ctx, raw: Any, factors: tuple[Factor, ...]) -> DesignSpec:
    table = _table(ctx, "design", raw)
    kind = table.get("kind", "grid")
    if kind not in DESIGN_KINDS:
        raise ctx.fail(
            "[design] kind",
            f"{kind!r} is not allowed: expected one of {', '.join(repr(k) for k in DESIGN_KINDS)}"
            f"{_hint(str(kind), DESIGN_KINDS)}",
        )
    _check_keys(ctx, f"[design] (kind = {kind!r})", table, _DESIGN_KEYS[kind])
    if kind == "grid":
        for f in factors:
            if f.is_range and f.num is None:
                raise ctx.fail(
                    f"[factors] {f.name}",
                    "a range in a grid design needs num = n (how many evenly spaced values), "
                    "or use values = [...]",
                )
        return DesignSpec("grid")
    for f in factors:
        if kind != "grid" and f.num is not None:
            raise ctx.fail(
                f"[factors] {f.name}.num",
                f"num is for grid designs only; the {kind} design samples the range",
            )
    if kind == "list":
        for f in factors:
            if f.is_range:
                raise ctx.fail(
                    f"[factors] {f.name}", "a list design needs values = [...] for every factor, not a range"
                )
        lengths = {f.name: len(f.values or ()) for f in factors}
        if len(set(lengths.values())) > 1:
            detail = ", ".join(f"{k}: {v}" for k, v in lengths.items())
            raise ctx.fail(
                "[factors]",
                "a list design pairs the i-th values of every factor, "
                f"so all need the same length (got {detail})",
            )
        return DesignSpec("list")
    if not factors:
        raise ctx.fail("[factors]", f"a {kind} design needs at least one factor")
    if kind == "lhs":
        if "samples" not in table:
            raise ctx.fail(
                "[design] samples", "missing: a Latin hypercube needs samples = n (number of points)"
            )
        return DesignSpec("lhs", samples=_int(ctx, "[design] samples", table["samples"], 1, MAX_RUNS))
    if kind == "sobol":
        if len(factors) < 2:
            raise ctx.fail("[factors]", "a sobol design needs at least two factors")
        if "samples" not in table:
            raise ctx.fail(
                "[design] samples", "missing: a Sobol design needs samples = N (a power of 2, e.g. 256)"
            )
        n = _int(ctx, "[design] samples", table["samples"], 2, MAX_RUNS)
        if n & (n - 1):
            lo = 2 ** int(math.log2(n))
            raise ctx.fail(
                "[design] samples", f"{n} is not allowed: expected a power of 2 (e.g. {lo} or {lo * 2})"
            )
        so = table.get("second_order", False)
        if not isinstance(so, bool):
            raise ctx.fail("[design] second_order", f"{so!r} is not allowed: expected true or false")
        return DesignSpec("sobol", samples=n, second_order=so)
    # morris
    if "trajectories" not in table:
        raise ctx.fail("[design] trajectories", "missing: a Morris design needs trajectories = r (e.g. 20)")
    r = _int(ctx, "[design] trajectories", table["trajectories"], 2, MAX_RUNS)
    levels = _int(ctx, "[design] levels", table.get("levels", 4), 2, 100)
    if levels % 2:
        raise ctx.fail("[design] levels", f"{levels} is not allowed: expected an even integer (e.g. 4)")
    return DesignSpec("morris", trajectories=r, levels=levels)


def _parse_output(ctx: _Ctx, table: dict[str, Any], known: tuple[str, ...]) -> OutputSpec:
    _check_keys(ctx, "[output]", table, _OUTPUT_KEYS)
    keep = table.get("keep", "summary")
    if keep not in KEEP_KINDS:
        raise ctx.fail(
            "[output] keep",
            f"{keep!r} is not allowed: expected 'summary' (one row per run) "
            "or 'series' (one row per run and step)",
        )
    metrics = table.get("metrics", list(DEFAULT_METRICS))
    if not isinstance(metrics, list) or not metrics:
        raise ctx.fail(
            "[output] metrics", f"{metrics!r} is not allowed: expected a non-empty list of metric names"
        )
    for i, m in enumerate(metrics):
        if not isinstance(m, str) or m not in known:
            raise ctx.fail(
                f"[output] metrics[{i}]",
                f"{m!r} is not allowed: expected one of {', '.join(known)}{_hint(str(m), known)}",
            )
    if len(set(metrics)) != len(metrics):
        raise ctx.fail("[output] metrics", f"{metrics!r} is not allowed: names must be distinct")
    every = table.get("every", 1)
    every = _int(ctx, "[output] every", every, 1, MAX_STEPS)
    if every != 1 and keep != "series":
        raise ctx.fail("[output] every", f"{every} is not allowed: every applies to keep = 'series' only")
    return OutputSpec(keep=keep, metrics=tuple(metrics), every=every)


def count_points(design: DesignSpec, factors: tuple[Factor, ...]) -> int:
    """How many points a design makes, computed without making them.

    Grid: the product of each factor's number of distinct values; Sobol:
    N (D + 2), or N (2D + 2) with second order; Morris: r (D + 1); LHS: its
    samples; list: the length of the value lists.
    """
    d = len(factors)
    if design.kind == "grid":
        return math.prod(_n_levels(f) for f in factors)
    if design.kind == "list":
        return len(factors[0].values or ()) if factors else 1
    if design.kind == "lhs":
        return int(design.samples or 0)
    if design.kind == "sobol":
        return int(design.samples or 0) * (2 * d + 2 if design.second_order else d + 2)
    return int(design.trajectories or 0) * (d + 1)


def _n_levels(f: Factor) -> int:
    if not f.is_range:
        return len(f.values or ())
    if f.type == "int":  # evenly spaced values rounded, duplicates dropped (as designs.grid_values)
        import numpy as np

        xs = np.linspace(float(f.low), float(f.high), int(f.num or 0))  # type: ignore[arg-type]
        return len(np.unique(np.round(xs)))
    return int(f.num or 0)


def series_metrics(resolved: dict[str, Any] | None = None) -> tuple[str, ...]:
    """Names of the per-step metrics the engines record for these parameters.

    These are :func:`civsim.metrics.series_columns` (which include one
    column per domain, group and neighbourhood), or :data:`SERIES_METRICS`
    when the metrics module cannot say.
    """
    try:
        from civsim import metrics
        from civsim.world import dims_of

        p = resolved if resolved is not None else schema.resolve({})
        d = dims_of(p)
        return tuple(metrics.series_columns(tuple(p["domains"]), d.G, d.M))
    except (ImportError, AttributeError):  # pragma: no cover - engine not installed
        return SERIES_METRICS
