"""Run parameter points over independent seed blocks with common random numbers.

Every point (a *variant*: one fully resolved parameter dict) runs the same
``blocks x replicates`` seeds, replicate ``r`` of block ``b`` drawing from

    ``np.random.SeedSequence(seed, spawn_key=(b, r))``

(:data:`SEED_RULE`), so any two variants form paired arms, and blocks are
independent. Each variant's runs are batched into chunks on the batch core
(runs never depend on their batch-mates) and the chunks are sent to the
executors of :mod:`civsim.experiments.executors` (in this process, a process
pool or a Dask cluster), so ``--workers`` gives the same numbers faster.
Workers reduce each run to the requested :class:`~.measures.Measure` values,
so only small arrays cross process boundaries.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from civsim.errors import UserError
from civsim.experiments.executors import available_cores, open_executor, tune_malloc
from civsim.experiments.measures import Measure, evaluate

SEED_RULE = "np.random.SeedSequence(seed, spawn_key=(block, replicate))"
"""How a run's stream follows from the experiment seed (recorded in manifests)."""

CITIZENS_PER_CHUNK = 200_000
"""Target citizens x runs batched together (large batches vectorise best)."""
MAX_CHUNK = 64

EngineFn = Callable[[list[dict[str, Any]], list[np.random.SeedSequence], int], pd.DataFrame]
ProgressFn = Callable[[int, int], None]


def write_json(path: Path, obj: Any) -> None:
    """Write strict JSON (NaN and infinities as null, tuples and numpy scalars as plain values)."""

    def clean(x: Any) -> Any:
        if isinstance(x, dict):
            return {str(k): clean(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [clean(v) for v in x]
        if isinstance(x, np.generic):
            x = x.item()
        if isinstance(x, float) and not math.isfinite(x):
            return None
        return x

    path.write_text(json.dumps(clean(obj), indent=2, allow_nan=False) + "\n")


def block_sequences(seed: int, blocks: int, reps: int) -> list[np.random.SeedSequence]:
    """Seed sequences of every run, block-major: index ``b * reps + r`` is ``(b, r)``."""
    return [np.random.SeedSequence(int(seed), spawn_key=(b, r)) for b in range(blocks) for r in range(reps)]


def variant_key(params: dict[str, Any]) -> str:
    """A stable short id of a resolved parameter dict (equal dicts run once)."""
    blob = json.dumps(
        {k: list(v) if isinstance(v, tuple) else v for k, v in sorted(params.items())}, default=str
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Task:
    """Plain data a worker needs: one chunk of one variant's runs."""

    key: str
    engine: str | EngineFn
    params: dict[str, Any]
    seed: int
    runs: tuple[tuple[int, int], ...]
    steps: int
    measures: tuple[Measure, ...]


@dataclass
class TaskResult:
    """Measure values of a chunk: arrays (n_measures, n_runs)."""

    key: str
    runs: tuple[tuple[int, int], ...]
    values: np.ndarray
    censored: np.ndarray
    seconds: float
    cpu_seconds: float = 0.0


def run_task(task: Task) -> TaskResult:
    """Run one chunk and reduce every run to its measure values."""
    tune_malloc()
    t0, c0 = time.perf_counter(), time.process_time()
    seeds = [np.random.SeedSequence(task.seed, spawn_key=run) for run in task.runs]
    points = [task.params] * len(task.runs)
    model = None
    if callable(task.engine):
        frame = task.engine(points, seeds, task.steps)
    elif task.engine == "batch":
        from civsim.batch import BatchModel

        model = BatchModel(points, seeds).run(task.steps)
        frame = model.frame()
    else:
        from civsim.experiments.engines import get_engine

        frame = get_engine(task.engine).run(points, seeds, task.steps)
    n, m = len(task.runs), len(task.measures)
    values = np.full((m, n), np.nan)
    censored = np.zeros((m, n), dtype=bool)
    for b, one in frame.groupby("run", sort=True):
        one = one.sort_values("step", kind="stable").reset_index(drop=True)
        for i, measure in enumerate(task.measures):
            values[i, int(b)], censored[i, int(b)] = evaluate(measure, one, model, int(b))
    return TaskResult(
        task.key, task.runs, values, censored, time.perf_counter() - t0, time.process_time() - c0
    )


@dataclass
class VariantResult:
    """Measure values of one variant: arrays (n_measures, blocks, reps)."""

    params: dict[str, Any]
    measures: tuple[Measure, ...]
    values: np.ndarray
    censored: np.ndarray

    def of(self, measure: Measure) -> np.ndarray:
        """Values of one measure, (blocks, reps)."""
        return self.values[self.measures.index(measure)]

    def censored_of(self, measure: Measure) -> int:
        """Runs whose value of ``measure`` is censored."""
        return int(self.censored[self.measures.index(measure)].sum())


@dataclass
class RunStats:
    """How a batch of variants ran."""

    runs: int
    citizen_steps: int
    seconds: float
    backend: str
    workers: int
    cpu_seconds: float = 0.0
    """CPU time of the runs themselves, summed over workers."""


def chunk_size(n_citizens: int, runs: int) -> int:
    """Runs batched together: about :data:`CITIZENS_PER_CHUNK` citizens, at most 64 runs."""
    return int(max(1, min(MAX_CHUNK, runs, CITIZENS_PER_CHUNK // max(int(n_citizens), 1))))


def run_variants(
    variants: dict[str, tuple[dict[str, Any], tuple[Measure, ...]]],
    *,
    seed: int,
    blocks: int,
    reps: int,
    steps: int,
    engine: str | EngineFn = "batch",
    workers: int | None = 1,
    backend: str = "auto",
    scheduler: str | None = None,
    progress: ProgressFn | None = None,
) -> tuple[dict[str, VariantResult], RunStats]:
    """Run every variant over the same ``blocks x reps`` seeds.

    Parameters
    ----------
    variants : dict
        ``key -> (resolved params, measures)``.
    seed, blocks, reps, steps : int
        Experiment seed (see :data:`SEED_RULE`), seed blocks, replicates per
        block and months per run.
    engine : str or callable
        ``"batch"`` (the batch core; probes need it), another name of
        :mod:`civsim.experiments.engines`, or a function
        ``(points, seeds, steps) -> frame`` (tests).
    workers : int, optional
        Worker processes (None: all cores; 1: this process).
    backend : {"auto", "inline", "process", "dask"}
        ``auto``: a local Dask cluster with more than one worker, else inline.
    scheduler : str, optional
        Address of an existing Dask scheduler.
    progress : callable, optional
        Called with ``(runs_done, runs_total)`` after each chunk.

    Returns
    -------
    results : dict
        ``key -> VariantResult``.
    stats : RunStats
    """
    if backend not in ("auto", "inline", "process", "dask"):
        raise UserError(f"backend {backend!r} is not allowed: expected auto, inline, process or dask")
    workers = available_cores() if workers is None else workers
    if workers < 1:
        raise UserError(f"--workers {workers} is not allowed: expected an integer >= 1")
    runs = [(b, r) for b in range(blocks) for r in range(reps)]
    tasks = []
    for key, (params, measures) in variants.items():
        size = chunk_size(params.get("n_citizens", 1), len(runs))
        for i in range(0, len(runs), size):
            tasks.append(Task(key, engine, params, seed, tuple(runs[i : i + size]), steps, tuple(measures)))
    if backend == "auto":
        backend = "dask" if scheduler or (workers > 1 and len(tasks) > 1) else "inline"
    if backend == "inline":
        workers = 1
    out = {
        key: VariantResult(
            params,
            tuple(measures),
            np.full((len(measures), blocks, reps), np.nan),
            np.zeros((len(measures), blocks, reps), dtype=bool),
        )
        for key, (params, measures) in variants.items()
    }
    total = len(runs) * len(variants)
    done, cpu = 0, 0.0

    def store(res: TaskResult) -> None:
        nonlocal done, cpu
        cpu += res.cpu_seconds
        target = out[res.key]
        for j, (b, r) in enumerate(res.runs):
            target.values[:, b, r] = res.values[:, j]
            target.censored[:, b, r] = res.censored[:, j]
        done += len(res.runs)
        if progress is not None:
            progress(done, total)

    t0 = time.perf_counter()
    with open_executor(backend, workers, scheduler) as ex:
        if ex is None:
            for task in tasks:
                store(run_task(task))
        else:
            queue, running = list(tasks), set[Future[TaskResult]]()
            try:
                while queue or running:
                    while queue and len(running) < 2 * workers + 2:
                        running.add(ex.submit(run_task, queue.pop(0)))
                    finished, running = wait(running, return_when=FIRST_COMPLETED)
                    for fut in finished:
                        store(fut.result())
            finally:
                for fut in running:
                    fut.cancel()
    citizen_steps = sum(int(p.get("n_citizens", 0)) for p, _ in variants.values()) * len(runs) * steps
    stats = RunStats(
        len(runs) * len(variants), citizen_steps, time.perf_counter() - t0, backend, workers, cpu
    )
    return out, stats
