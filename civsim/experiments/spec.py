"""Experiment files: parse and validate ``experiments/*.toml``.

An experiment file names a base scenario, the factors to vary, a design
(full grid, list, Latin hypercube, Sobol/Saltelli or Morris), replicates,
steps, the metrics to record and a seed. Every problem is reported as one
:class:`civsim.errors.UserError` line naming the file, the key, the value and
what is allowed (the CLI prints it and exits with status 2).

See ``docs/experiments.md`` for the format, with an example.

The parts: :mod:`~civsim.experiments.spec_types` (the validated records, kinds,
metrics and caps), :mod:`~civsim.experiments.spec_checks` (single values) and
:mod:`~civsim.experiments.spec_sections` (``[factors]``, ``[design]``, ``[output]``);
this module reads the file and re-exports them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from civsim import params as schema
from civsim import safeio
from civsim.errors import UserError
from civsim.experiments.spec_checks import _check_keys, _Ctx, _hint, _int, _name, _param, _str, _table
from civsim.experiments.spec_sections import _parse_design, _parse_factors, _parse_output
from civsim.experiments.spec_types import (
    DEFAULT_METRICS,
    DESIGN_KINDS,
    KEEP_KINDS,
    MAX_RUNS,
    MAX_STEPS,
    SERIES_METRICS,
    DesignSpec,
    Experiment,
    Factor,
    OutputSpec,
    count_points,
)
from civsim.scenario import MAX_SEED

_TOP_KEYS = ("experiment", "params", "factors", "design", "output")
_EXPERIMENT_KEYS = ("name", "description", "scenario", "seed", "steps", "replicates", "chunk_size")


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


__all__ = [
    "DEFAULT_METRICS",
    "DESIGN_KINDS",
    "KEEP_KINDS",
    "MAX_RUNS",
    "MAX_STEPS",
    "SERIES_METRICS",
    "DesignSpec",
    "Experiment",
    "Factor",
    "OutputSpec",
    "count_points",
    "find_experiment",
    "load_experiment",
    "parse_experiment",
    "series_metrics",
]
