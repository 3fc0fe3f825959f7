"""The logic behind the Strategy page (``/strategy``), free of any widget.

A page session builds a :class:`LabSpec` (strategies, uncertainty ranges,
sizes), turns it into a strategy experiment -- validated by the same parser
as ``experiments/*.toml``, so browser input gets the same one-line errors --
and runs it on the batch core chunk by chunk with the sweep runner's own
plan, seeds and chunk function. The experiment file the page offers for
download therefore reproduces the page's numbers with ``civsim sweep``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from civsim.errors import UserError

PRESETS_FILE = "strategy_austerity.toml"
MAX_STRATEGIES = 6
MIN_STRATEGIES = 2
MAX_FUTURES = 1000
MAX_RUNS = 20_000
PARALLEL_FROM = 64
"""Runs from which the page uses every core (worker processes cost a few seconds to start)."""
_NAME = re.compile(r"[^A-Za-z0-9_-]+")


class Cancelled(Exception):
    """The user pressed Cancel."""


@dataclass
class LabStrategy:
    """One strategy as the page edits it."""

    name: str
    description: str = ""
    levers: dict[str, Any] = field(default_factory=dict)


@dataclass
class LabSpec:
    """Everything the page runs."""

    strategies: list[LabStrategy]
    ranges: dict[str, tuple[float, float]]
    n_futures: int = 200
    replicates: int = 1
    months: int = 120
    n_citizens: int = 2000
    seed: int = 4112
    scenario: str = "baseline"
    fixed: dict[str, Any] = field(default_factory=dict)
    posterior: str = ""
    """A shipped posterior's name (or a calibration directory): future i also takes posterior draw i."""


def presets_path() -> Path:
    """The shipped strategy experiment the page starts from."""
    for root in (Path(__file__).resolve().parents[2], Path.cwd()):
        p = root / "experiments" / PRESETS_FILE
        if p.is_file():
            return p
    raise UserError(f"experiments/{PRESETS_FILE} not found: the Strategy page starts from it")


def default_spec() -> tuple[LabSpec, dict[str, tuple[float, float]]]:
    """The page's starting point (the shipped experiment, 4 strategies) and the lever ranges."""
    from civsim.experiments.futures import load_strategy_experiment

    sx = load_strategy_experiment(presets_path())
    fixed = {k: v for k, v in sx.base.base.items() if k not in ("n_citizens",)}
    ranges = {f.name: (float(f.low), float(f.high)) for f in sx.base.factors if f.is_range}
    strategies = [LabStrategy(s.name, s.description, dict(s.levers)) for s in sx.strategies][:4]
    spec = LabSpec(
        strategies,
        ranges,
        200,
        1,
        sx.base.steps,
        int(sx.base.base.get("n_citizens", 2000)),
        sx.base.seed,
        sx.base.scenario or "baseline",
        fixed,
    )
    return spec, {f.name: (float(f.low), float(f.high)) for f in sx.levers}


def preset_strategies() -> list[LabStrategy]:
    """Every strategy of the shipped experiment."""
    from civsim.experiments.futures import load_strategy_experiment

    sx = load_strategy_experiment(presets_path())
    return [LabStrategy(s.name, s.description, dict(s.levers)) for s in sx.strategies]


def clean_name(text: str) -> str:
    """A strategy name safe as a folder name (letters, digits, ``_``, ``-``)."""
    name = _NAME.sub("_", str(text).strip())[:64].strip("_-")
    return name if name and name[0].isalpha() else f"s_{name}" if name else "strategy"


def experiment_data(spec: LabSpec) -> dict[str, Any]:
    """The strategy experiment as parsed TOML data."""
    return {
        "experiment": {
            "name": "strategy_lab",
            "description": "Made on the Strategy page.",
            "scenario": spec.scenario,
            "seed": int(spec.seed),
            "steps": int(spec.months),
            "replicates": int(spec.replicates),
            "chunk_size": lab_chunk_size(spec),
        },
        "params": {**spec.fixed, "n_citizens": int(spec.n_citizens)},
        **futures_design(spec),
        "strategies": {
            s.name: ({"description": s.description} if s.description else {}) | dict(s.levers)
            for s in spec.strategies
        },
        "output": {"keep": "summary", "metrics": ["outcome_index", "inclusion_gap", "engagement", "trust"]},
    }


def lab_chunk_size(spec: LabSpec) -> int:
    """Runs per chunk for the page: the largest batches the sweep runner allows (32 runs, about
    400,000 citizens), since a page run is few strategies of many futures and a batch's fixed
    per-month costs are shared by its runs. Results do not depend on it (each run has its own seed)."""
    from civsim.experiments.sweep_plan import CITIZENS_PER_CHUNK, MAX_DEFAULT_CHUNK

    return int(max(1, min(MAX_DEFAULT_CHUNK, CITIZENS_PER_CHUNK // max(int(spec.n_citizens), 1))))


def futures_design(spec: LabSpec) -> dict[str, Any]:
    """The ``[uncertainties]`` and ``[design]`` of the lab's experiment.

    Without a posterior: a Latin hypercube over the ranges. With one, every
    future also carries a set of calibrated parameters: future i takes
    posterior draw i (:func:`civsim.calibration.posterior.draw_points`, seeded
    by the experiment's seed), and the uncertainties are a Latin hypercube
    (scipy's, from ``SeedSequence(seed, spawn_key=(31,))``) written out as an
    explicit list design, so the downloaded file reproduces the futures.
    A calibrated parameter that is also an uncertainty takes the posterior's values.
    """
    if not spec.posterior:
        return {
            "uncertainties": {k: {"range": [float(lo), float(hi)]} for k, (lo, hi) in spec.ranges.items()},
            "design": {"kind": "lhs", "samples": int(spec.n_futures)},
        }
    import numpy as np
    from scipy.stats import qmc

    from civsim.calibration.posterior import draw_points, load_posterior
    from civsim.params import SCHEMA

    post = load_posterior(spec.posterior)
    n = int(spec.n_futures)
    names = [k for k in spec.ranges if k not in post.names]
    cols: dict[str, list[Any]] = {}
    if names:
        rng = np.random.default_rng(np.random.SeedSequence(int(spec.seed), spawn_key=(31,)))
        u = qmc.LatinHypercube(d=len(names), seed=rng).random(n)
        for j, k in enumerate(names):
            lo, hi = spec.ranges[k]
            x = lo + (hi - lo) * u[:, j]
            cols[k] = [int(round(v)) for v in x] if SCHEMA[k].type == "int" else [float(v) for v in x]
    draws = draw_points(post, n, int(spec.seed))
    for k in post.names:
        cols[k] = [d[k] for d in draws]
    return {"uncertainties": {k: {"values": v} for k, v in cols.items()}, "design": {"kind": "list"}}


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'


def experiment_toml(spec: LabSpec) -> str:
    """The experiment file that reproduces the page's run (``civsim sweep FILE``)."""
    data = experiment_data(spec)
    out = [
        "# Made on civsim's Strategy page. Reproduce: civsim sweep strategy_lab.toml --out runs/strategy_lab",
        "",
    ]
    for table in ("experiment", "params"):
        out.append(f"[{table}]")
        out += [f"{k} = {_toml_value(v)}" for k, v in data[table].items()] + [""]
    if spec.posterior:
        out.insert(
            1, f"# Futures carry draws of the calibrated posterior {spec.posterior!r} (a list design)."
        )
    out.append("[uncertainties]")
    out += [
        f"{k} = {{ {kind} = {_toml_value(v[kind])} }}" for k, v in data["uncertainties"].items() for kind in v
    ] + [""]
    design = data["design"]
    out += ["[design]", f"kind = {_toml_value(design['kind'])}"]
    out += [f"samples = {design['samples']}"] if "samples" in design else []
    out += [""]
    for name, table in data["strategies"].items():
        out.append(f"[strategies.{name}]")
        out += [f"{k} = {_toml_value(v)}" for k, v in table.items()] + [""]
    out += ["[output]", 'keep = "summary"', f"metrics = {_toml_value(data['output']['metrics'])}", ""]
    return "\n".join(out)


def strategy_scenario_toml(spec: LabSpec, s: LabStrategy) -> str:
    """One strategy as a scenario file (base, fixed parameters and its levers; uncertainties at defaults)."""
    lines = [
        f"# Strategy {s.name} from civsim's Strategy page. Run: civsim run {s.name}.toml",
        f"description = {_toml_value(s.description or s.name)}",
        f"extends = {_toml_value(spec.scenario)}",
        f"seed = {int(spec.seed)}",
        f"steps = {int(spec.months)}",
        "",
        "[params]",
    ]
    params = {**spec.fixed, "n_citizens": int(spec.n_citizens), **s.levers}
    lines += [f"{k} = {_toml_value(v)}" for k, v in params.items()]
    return "\n".join(lines) + "\n"


def validate(spec: LabSpec):  # noqa: ANN201 - StrategyExperiment
    """The validated strategy experiment of a spec (one-line ``UserError`` otherwise)."""
    from civsim.experiments.futures import parse_strategy_experiment

    if not MIN_STRATEGIES <= len(spec.strategies) <= MAX_STRATEGIES:
        raise UserError(
            f"choose {MIN_STRATEGIES} to {MAX_STRATEGIES} strategies (got {len(spec.strategies)})"
        )
    names = [s.name for s in spec.strategies]
    if len(set(names)) != len(names):
        raise UserError(f"strategy names must differ (got {', '.join(names)})")
    if not 2 <= spec.n_futures <= MAX_FUTURES:
        raise UserError(f"futures: {spec.n_futures} is not allowed: expected 2 to {MAX_FUTURES}")
    runs = len(spec.strategies) * spec.n_futures * spec.replicates
    if runs > MAX_RUNS:
        raise UserError(f"{runs:,} runs is too many for the page (at most {MAX_RUNS:,}); use `civsim sweep`")
    return parse_strategy_experiment(experiment_data(spec), Path("strategy page"))


def run_lab(
    spec: LabSpec,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
    workers: int | None = None,
) -> pd.DataFrame:
    """Run every strategy in every future on the batch core.

    Uses the sweep runner's plan, seeds and chunk function, so the result
    equals ``civsim sweep`` of :func:`experiment_toml`, whatever ``workers``.

    Parameters
    ----------
    spec : LabSpec
    progress : callable, optional
        ``progress(runs_done, runs_total)`` after each chunk.
    cancel : threading.Event, optional
        Checked between chunks.
    workers : int, optional
        Worker processes; default: every core for runs of at least
        :data:`PARALLEL_FROM` runs, else this process only.

    Returns
    -------
    pandas.DataFrame
        One row per run: ``strategy``, ``future``, ``replicate``, the
        uncertainties and the per-run outputs.

    Raises
    ------
    Cancelled
        When ``cancel`` is set (chunks in flight finish, nothing more starts).
    """
    from concurrent.futures import FIRST_COMPLETED, wait

    from civsim.experiments.executors import available_cores, open_executor
    from civsim.experiments.runner import make_task, plan_sweep, run_chunk

    sx = validate(spec)
    plans = [(s.name, plan_sweep(sx.experiment_for(s))) for s in sx.strategies]
    jobs = [(k, c) for k, (_, p) in enumerate(plans) for c in range(len(p.chunks))]
    total = sum(p.n_runs for _, p in plans)
    if workers is None:
        workers = available_cores() if total >= PARALLEL_FROM else 1
    tables: dict[tuple[int, int], pd.DataFrame] = {}
    done = 0

    def finished(key: tuple[int, int], res) -> None:  # noqa: ANN001 - ChunkResult
        nonlocal done
        df = res.table.to_pandas()
        df.insert(0, "strategy", plans[key[0]][0])
        df.insert(1, "future", df["point"])
        tables[key] = df
        done += res.runs
        if progress is not None:
            progress(done, total)

    with open_executor("inline" if workers <= 1 else "process", workers) as ex:
        if ex is None:
            for k, c in jobs:
                if cancel is not None and cancel.is_set():
                    raise Cancelled()
                finished((k, c), run_chunk(make_task(plans[k][1], c)))
        else:
            queue, running = list(jobs), {}
            while queue or running:
                if cancel is not None and cancel.is_set():
                    for f in running:
                        f.cancel()
                    raise Cancelled()
                while queue and len(running) < 2 * workers:
                    k, c = queue.pop(0)
                    running[ex.submit(run_chunk, make_task(plans[k][1], c))] = (k, c)
                ready, _ = wait(list(running), timeout=0.5, return_when=FIRST_COMPLETED)
                for f in ready:
                    finished(running.pop(f), f.result())
    return pd.concat([tables[key] for key in jobs], ignore_index=True)
