"""Model runs for calibration: many parameter points per batch, on the sweep executors, kept on disk.

A *stage* (a history-matching wave, an ABC batch) is a list of parameter
points, each run ``replicates`` times. Runs are grouped into chunks of up to
``chunk_size`` runs; each chunk is one :class:`civsim.batch.BatchModel` with
many parameter points in one batch (or the named test engine), sent to the
same executors as ``civsim sweep`` (:mod:`civsim.experiments.executors`:
in-process, process pool, Dask). Each finished chunk is written at once to
``DIR/runs/<stage>/chunk-NNNN.parquet`` through a temporary file and a rename,
so a ``kill -9`` loses at most the chunks in flight; rerunning skips the
chunks on disk.

Run ``(point, rep)`` of stage key ``k`` draws from
``SeedSequence(seed, spawn_key=(*k, point, rep))``: its result never depends on
the chunk, worker or order it ran in.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from civsim.calibration.spec import Target
from civsim.experiments.executors import available_cores, open_executor, tune_malloc
from civsim.experiments.storage import atomic_write_bytes

CITIZEN_RUNS_PER_CHUNK = 400_000
"""Target citizens x runs per chunk (large batches vectorise best)."""
MAX_CHUNK = 64


def chunk_size_for(citizens: int) -> int:
    """Runs per chunk for a population size (depends only on the file, never on workers)."""
    return int(max(1, min(MAX_CHUNK, CITIZEN_RUNS_PER_CHUNK // max(citizens, 1))))


@dataclass(frozen=True)
class ChunkTask:
    """Plain data a worker needs to run one chunk."""

    engine: str
    steps: int
    seed: int
    keys: tuple[tuple[int, ...], ...]
    params: tuple[dict[str, Any], ...]
    metrics: tuple[str, ...]


def run_chunk(task: ChunkTask) -> np.ndarray:
    """Run a chunk; return the metric series, shape ``(runs, metrics, steps + 1)`` (float64)."""
    return _timed_chunk(task)[0]


def _timed_chunk(task: ChunkTask) -> tuple[np.ndarray, float]:
    """:func:`run_chunk` and the CPU seconds it took in its worker."""
    import time

    from civsim.experiments.engines import get_engine

    c0 = time.process_time()
    tune_malloc()
    seeds = [np.random.SeedSequence(task.seed, spawn_key=k) for k in task.keys]
    frame = get_engine(task.engine).run(list(task.params), seeds, task.steps)
    frame = frame.sort_values(["run", "step"], kind="stable")
    out = np.empty((len(task.keys), len(task.metrics), task.steps + 1))
    for i, m in enumerate(task.metrics):
        out[:, i, :] = frame[m].to_numpy(dtype=float).reshape(len(task.keys), task.steps + 1)
    return out, time.process_time() - c0


def measure(series: np.ndarray, metrics: tuple[str, ...], targets: list[Target]) -> np.ndarray:
    """Apply the measurement model: the model's value of each target for each run.

    Parameters
    ----------
    series : ndarray, shape (runs, metrics, steps + 1)
    metrics : tuple of str
        Metric of each row of ``series``.
    targets : list of Target

    Returns
    -------
    ndarray, shape (runs, targets)
        ``metric`` averaged over ``window`` (or at ``step``), divided by its
        value at ``relative_to`` when set.
    """
    out = np.empty((series.shape[0], len(targets)))
    for j, t in enumerate(targets):
        s = series[:, metrics.index(t.metric), :]
        a, b = t.window if t.window else (t.step, t.step)
        v = s[:, a : b + 1].mean(axis=1)
        if t.relative_to is not None:
            den = s[:, t.relative_to]
            v = np.divide(v, den, out=np.full_like(v, np.nan), where=den != 0)
        out[:, j] = v
    return out


ProgressFn = Callable[[int], None]


class Evaluator:
    """Runs stages of parameter points through one executor, keeping every chunk on disk.

    Parameters
    ----------
    root : pathlib.Path
        The calibration directory (chunks go to ``root/runs``).
    engine : str
        Engine name (``"batch"``, or ``"toy"`` for tests).
    base : dict
        Resolved parameters every point starts from.
    steps, seed : int
    metrics : tuple of str
        Metrics kept for every run (whole series).
    chunk_size : int
    executor : concurrent.futures.Executor or None
        None runs in this process.
    """

    def __init__(
        self,
        root: Path,
        engine: str,
        base: dict[str, Any],
        steps: int,
        seed: int,
        metrics: tuple[str, ...],
        chunk_size: int,
        executor: Executor | None,
        workers: int = 1,
    ) -> None:
        self.root = Path(root) / "runs"
        self.engine, self.base, self.steps, self.seed = engine, base, steps, seed
        self.metrics, self.chunk_size, self.executor, self.workers = metrics, chunk_size, executor, workers
        self.runs_simulated = 0
        self.cpu_seconds = 0.0
        """CPU seconds the model runs took in their workers (this session)."""

    def stage_dir(self, stage: str) -> Path:
        """Folder of a stage's chunks."""
        return self.root / stage

    def run(
        self,
        stage: str,
        key: tuple[int, ...],
        points: list[dict[str, float]],
        reps: int,
        progress: ProgressFn | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Run every point ``reps`` times (skipping chunks already on disk).

        Returns
        -------
        point, rep : ndarray of int, shape (runs,)
        series : ndarray, shape (runs, metrics, steps + 1)
            Ordered by point, then replicate.
        """
        from civsim.params import resolve

        folder = self.stage_dir(stage)
        folder.mkdir(parents=True, exist_ok=True)
        runs = [(p, r) for p in range(len(points)) for r in range(reps)]
        chunks = [runs[i : i + self.chunk_size] for i in range(0, len(runs), self.chunk_size)]
        resolved = [resolve({**self.base, **pt}) for pt in points]
        results: dict[int, np.ndarray] = {}
        for c in range(len(chunks)):
            path = folder / f"chunk-{c:05d}.parquet"
            if path.exists():
                results[c] = _read_chunk(path, len(self.metrics), self.steps)
                if progress:
                    progress(len(chunks[c]))

        def task(c: int) -> ChunkTask:
            return ChunkTask(
                self.engine,
                self.steps,
                self.seed,
                tuple((*key, p, r) for p, r in chunks[c]),
                tuple(resolved[p] for p, _ in chunks[c]),
                self.metrics,
            )

        def finished(c: int, timed: tuple[np.ndarray, float]) -> None:
            arr, cpu = timed
            self.cpu_seconds += cpu
            _write_chunk(folder / f"chunk-{c:05d}.parquet", chunks[c], arr, self.metrics)
            results[c] = arr
            self.runs_simulated += len(chunks[c])
            if progress:
                progress(len(chunks[c]))

        pending = [c for c in range(len(chunks)) if c not in results]
        if self.executor is None:
            for c in pending:
                finished(c, _timed_chunk(task(c)))
        else:
            _run_on(self.executor, pending, task, finished, window=2 * self.workers + 2)
        series = np.concatenate([results[c] for c in range(len(chunks))]) if chunks else np.empty((0,))
        return (
            np.array([p for p, _ in runs], dtype=int),
            np.array([r for _, r in runs], dtype=int),
            series,
        )


def _run_on(ex: Executor, pending: list[int], task, finished, window: int) -> None:  # noqa: ANN001
    queue = list(pending)
    running: dict[Any, int] = {}
    try:
        while queue or running:
            while queue and len(running) < window:
                c = queue.pop(0)
                running[ex.submit(_timed_chunk, task(c))] = c
            done, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for fut in sorted(done, key=lambda f: running[f]):
                finished(running.pop(fut), fut.result())
    finally:
        for fut in running:
            fut.cancel()


def _write_chunk(path: Path, runs: list[tuple[int, int]], arr: np.ndarray, metrics: tuple[str, ...]) -> None:
    cols: dict[str, Any] = {
        "point": pa.array([p for p, _ in runs], pa.int64()),
        "rep": pa.array([r for _, r in runs], pa.int64()),
    }
    for i, m in enumerate(metrics):
        cols[m] = pa.array(list(arr[:, i, :]), pa.list_(pa.float64()))
    buf = io.BytesIO()
    pq.write_table(pa.table(cols), buf)
    atomic_write_bytes(path, buf.getvalue())


def _read_chunk(path: Path, n_metrics: int, steps: int) -> np.ndarray:
    table = pq.read_table(path)
    names = [c for c in table.column_names if c not in ("point", "rep")]
    out = np.empty((table.num_rows, n_metrics, steps + 1))
    for i, m in enumerate(names):
        out[:, i, :] = np.stack(table.column(m).to_pylist())
    return out


@contextlib.contextmanager
def open_evaluator(
    root: Path,
    engine: str,
    base: dict[str, Any],
    steps: int,
    seed: int,
    metrics: tuple[str, ...],
    chunk_size: int,
    workers: int | None = None,
    scheduler: str | None = None,
    backend: str = "auto",
) -> Iterator[Evaluator]:
    """An :class:`Evaluator` on the backend ``civsim sweep`` would use.

    ``auto``: Dask with a scheduler or more than one worker, else in-process.
    """
    workers = available_cores() if workers is None else workers
    if backend == "auto":
        backend = "dask" if scheduler or workers > 1 else "inline"
    with open_executor(backend, workers, scheduler) as ex:
        yield Evaluator(
            root, engine, base, steps, seed, metrics, chunk_size, ex, 1 if ex is None else workers
        )


def points_frame(points: list[dict[str, float]], names: list[str]) -> pd.DataFrame:
    """Parameter points as a frame with one column per name."""
    return pd.DataFrame([[p[n] for n in names] for p in points], columns=names, dtype=float)


def finite_rows(values: np.ndarray) -> np.ndarray:
    """Mask of rows whose values are all finite."""
    return np.all(np.isfinite(values), axis=1) if values.ndim == 2 else np.isfinite(values)


def stored_points(
    root: Path, stage: str, make: Callable[[], list[dict[str, float]]]
) -> list[dict[str, float]]:
    """A stage's parameter points: read from ``root/stages/<stage>.json``, or made and saved first.

    Saving the points before running them makes a resumed calibration run
    exactly the same points, whatever happened to the process.
    """
    path = Path(root) / "stages" / f"{stage}.json"
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    points = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, json.dumps(points).encode("utf-8"))
    return points
