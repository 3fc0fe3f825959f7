"""One chunk of a sweep: the plain task a worker gets, running it, shaping its rows.

A chunk's runs are seeded by their (point, replicate) alone
(:data:`civsim.experiments.sweep_plan.SEED_RULE`), so its table never depends on the
worker or the order it ran in.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from civsim.experiments.engines import get_engine
from civsim.experiments.executors import tune_malloc
from civsim.experiments.sweep_plan import SweepPlan


@dataclass(frozen=True)
class ChunkTask:
    """Plain data a worker needs to run one chunk."""

    chunk: int
    engine: str
    seed: int
    steps: int
    runs: tuple[tuple[int, int, int], ...]  # (run, point, replicate)
    params: tuple[dict[str, Any], ...]
    factors: tuple[dict[str, Any], ...]
    factor_names: tuple[str, ...]
    keep: str
    metrics: tuple[str, ...]
    every: int


@dataclass
class ChunkResult:
    """A finished chunk: its table and how long it took."""

    chunk: int
    table: pa.Table
    seconds: float
    runs: int
    cpu_seconds: float = 0.0


def make_task(plan: SweepPlan, chunk: int) -> ChunkTask:
    """The task for chunk ``chunk`` of a plan."""
    runs = plan.chunks[chunk]
    triples = tuple((r, *plan.run_of(r)) for r in runs)
    out = plan.experiment.output
    return ChunkTask(
        chunk=chunk,
        engine=plan.engine,
        seed=plan.experiment.seed,
        steps=plan.experiment.steps,
        runs=triples,
        params=tuple(plan.resolved[p] for _, p, _ in triples),
        factors=tuple(plan.design.points[p] for _, p, _ in triples),
        factor_names=plan.experiment.factor_names,
        keep=out.keep,
        metrics=out.metrics,
        every=out.every,
    )


def summary_row(summary: dict[str, Any], frame: pd.DataFrame, metrics: tuple[str, ...]) -> dict[str, float]:
    """The scalar summaries kept for one run.

    Keeps the engine's summaries of the chosen metrics and those tied to no
    series metric (shock dip, recovery time, ...); adds ``final_<m>`` and
    ``mean_<m>`` for chosen metrics the engine does not summarise; drops
    non-scalar entries.
    """
    series = [c for c in frame.columns if c not in ("run", "step")]

    def tied(key: str, names: list[str] | tuple[str, ...]) -> bool:
        return any(key == m or key.endswith("_" + m) for m in names)

    out: dict[str, float] = {}
    for key, value in summary.items():
        if isinstance(value, (list, tuple, dict)) or not (tied(key, metrics) or not tied(key, series)):
            continue
        out[key] = np.nan if value is None else float(value)
    for m in metrics:
        if f"final_{m}" not in out and m in frame.columns:
            out[f"final_{m}"] = float(frame[m].iloc[-1])
            out[f"mean_{m}"] = float(frame[m].mean())
    return out


def run_chunk(task: ChunkTask) -> ChunkResult:
    """Run one chunk with its engine and shape its rows for storage.

    Rows: ``run``, ``point``, ``replicate``, the factor columns, then
    ``step`` and the metrics (series) or the per-run summaries (summary).
    Metric columns are float64; rows are ordered by run, then step.
    """
    tune_malloc()
    t0 = time.perf_counter()
    c0 = time.process_time()
    engine = get_engine(task.engine)
    seeds = [np.random.SeedSequence(task.seed, spawn_key=(p, r)) for _, p, r in task.runs]
    frame = engine.run(list(task.params), seeds, task.steps)
    ids = pd.DataFrame(
        {
            "run": np.array([t[0] for t in task.runs], dtype=np.int64),
            "point": np.array([t[1] for t in task.runs], dtype=np.int64),
            "replicate": np.array([t[2] for t in task.runs], dtype=np.int64),
        }
    )
    for name in task.factor_names:
        ids[name] = pd.Series([f[name] for f in task.factors])
    if task.keep == "series":
        steps = frame["step"].to_numpy()
        last = steps.max() if len(steps) else 0
        keep = (steps % task.every == 0) | (steps == last)
        sub = frame.loc[keep, ["run", "step", *task.metrics]]
        local = sub["run"].to_numpy()
        out = ids.iloc[local].reset_index(drop=True)
        out["step"] = sub["step"].to_numpy().astype(np.int64)
        for m in task.metrics:
            out[m] = sub[m].to_numpy(dtype=np.float64)
        out = out.sort_values(["run", "step"], kind="stable").reset_index(drop=True)
    else:
        rows = []
        for b in range(len(task.runs)):
            one = frame[frame["run"] == b].sort_values("step", kind="stable").reset_index(drop=True)
            rows.append(summary_row(engine.summarise(one), one, task.metrics))
        keys = list(rows[0]) if rows else []
        out = ids.copy()
        for k in keys:
            out[k] = np.array([r.get(k, np.nan) for r in rows], dtype=np.float64)
    table = pa.Table.from_pandas(out, preserve_index=False)
    return ChunkResult(task.chunk, table, time.perf_counter() - t0, len(task.runs), time.process_time() - c0)
