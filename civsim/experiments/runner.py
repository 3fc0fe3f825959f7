"""Run an experiment: plan the runs, batch them into chunks, execute, store.

Every (point, replicate) pair is one run with its own seed sequence,
``np.random.SeedSequence(experiment_seed, spawn_key=(point, replicate))``,
so a run's randomness never depends on the order, chunk or worker it ran in.
Runs are numbered ``run = point * replicates + replicate`` and grouped into
chunks of equal structural parameters (sizes, domains, network layout), at
most ``chunk_size`` runs each. The chunk plan follows from the experiment
alone, never from the number of workers, so every backend writes the same
files, bit for bit.

Backends (one code path, a ``concurrent.futures.Executor``; see
:mod:`civsim.experiments.executors`):

- ``inline``: in this process, chunk after chunk;
- ``process``: a local ``ProcessPoolExecutor``;
- ``dask``: a Dask cluster through ``Client.get_executor()``: a
  ``LocalCluster`` of ``workers`` processes bound to 127.0.0.1, or an existing
  cluster at ``scheduler``.

The parts live in their own modules (re-exported here):
:mod:`~civsim.experiments.sweep_plan` (runs, seeds, chunks, memory check,
manifest), :mod:`~civsim.experiments.chunks` (one chunk's task and rows),
:mod:`~civsim.experiments.fingerprint` (the model's source hash) and
:mod:`~civsim.experiments.sweep_progress` (the progress bar).
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from civsim import params as schema
from civsim.errors import UserError
from civsim.experiments.chunks import ChunkResult, ChunkTask, make_task, run_chunk, summary_row
from civsim.experiments.designs import build_design
from civsim.experiments.engines import get_engine
from civsim.experiments.executors import available_cores, open_executor
from civsim.experiments.fingerprint import MODEL_MODULES, model_fingerprint
from civsim.experiments.spec import MAX_RUNS, Experiment, count_points
from civsim.experiments.storage import FORMAT, ResultStore, part_name
from civsim.experiments.sweep_plan import (
    CITIZENS_PER_CHUNK,
    MAX_DEFAULT_CHUNK,
    MIN_DEFAULT_CHUNK,
    RUN_RULE,
    SEED_RULE,
    TARGET_CHUNKS,
    SweepPlan,
    _chunk_runs,
    _jsonable,
    build_manifest,
    check_sweep_memory,
    default_chunk_size,
    expected_rows,
    rows_per_run,
)
from civsim.experiments.sweep_progress import _ProgressBar

BACKENDS: tuple[str, ...] = ("auto", "inline", "process", "dask")
"""Allowed ``backend`` values of :func:`run_sweep`."""


class SweepInterrupted(Exception):
    """A sweep stopped by Ctrl-C; finished chunks are on disk."""


def plan_sweep(experiment: Experiment, engine: str = "batch") -> SweepPlan:
    """Resolve an experiment's points and chunks.

    Raises
    ------
    UserError
        When a design point breaks a rule that involves several parameters
        (the message names the file, the point and the values).
    """
    try:
        get_engine(engine)
    except KeyError:
        from civsim.experiments.engines import ENGINES

        raise UserError(f"--engine {engine!r} is not allowed: expected one of {', '.join(ENGINES)}") from None
    n_points = count_points(experiment.design, experiment.factors)
    n_runs = n_points * experiment.replicates
    if n_runs > MAX_RUNS:
        raise UserError(
            f"{experiment.path}: the design makes {n_runs:,} runs; at most {MAX_RUNS:,} are allowed"
        )
    base = schema.resolve(experiment.base)
    chunk_size = experiment.chunk_size or default_chunk_size(int(base["n_citizens"]), n_runs)
    check_sweep_memory(experiment, n_points, chunk_size, 1, engine)  # before the design is built
    design = build_design(experiment.factors, experiment.design, experiment.seed)
    resolved = []
    for i, point in enumerate(design.points):
        try:
            resolved.append(schema.resolve({**experiment.base, **point}))
        except schema.ParamError as exc:
            shown = ", ".join(f"{k} = {v!r}" for k, v in point.items())
            raise UserError(f"{experiment.path}: design point {i} ({shown}): {exc}") from None
    chunks = _chunk_runs(resolved, experiment.replicates, chunk_size)
    identity = {
        "format": FORMAT,
        "engine": engine,
        "model": model_fingerprint(engine),
        "base": {k: _jsonable(v) for k, v in base.items()},
        "factors": [f.as_dict() for f in experiment.factors],
        "design": experiment.design.as_dict(),
        "points": [{k: _jsonable(v) for k, v in p.items()} for p in design.points],
        "replicates": experiment.replicates,
        "steps": experiment.steps,
        "seed": experiment.seed,
        "output": experiment.output.as_dict(),
        "chunk_size": chunk_size,
    }
    return SweepPlan(experiment, design, resolved, engine, chunk_size, chunks, identity)


@dataclass
class SweepResult:
    """What a call to :func:`run_sweep` did.

    Attributes
    ----------
    out : pathlib.Path
        The results directory (``pandas.read_parquet(out)`` reads it).
    n_runs, n_chunks : int
        Size of the whole sweep.
    runs_run, chunks_run : int
        What this call ran (the rest was on disk already).
    seconds : float
        Wall time of this call's simulation phase.
    citizen_steps : int
        Citizens x steps simulated by this call.
    backend : str
        The backend used.
    workers : int
        Worker processes (1 for inline).
    """

    out: Path
    n_runs: int
    n_chunks: int
    runs_run: int
    chunks_run: int
    seconds: float
    citizen_steps: int
    backend: str
    workers: int
    session: dict[str, Any] = field(default_factory=dict)
    damaged: dict[int, str] = field(default_factory=dict)
    """Chunks found damaged on disk (id: why) and run again by this call."""

    @property
    def citizen_steps_per_second(self) -> float:
        """Throughput of this call."""
        return self.citizen_steps / self.seconds if self.seconds > 0 else float("nan")


ProgressFn = Callable[[int, int], None]


def run_sweep(
    experiment: Experiment | SweepPlan,
    out: Path | str,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    backend: str = "auto",
    engine: str = "batch",
    progress: bool | ProgressFn = False,
) -> SweepResult:
    """Run every point x replicate of an experiment, resuming what is missing.

    Parameters
    ----------
    experiment : Experiment or SweepPlan
        What to run (a plan is made with :func:`plan_sweep` when needed).
    out : path
        Results directory. If it holds finished chunks of the same
        experiment, only the missing ones run; if it holds another
        experiment, :class:`UserError` is raised.
    workers : int, optional
        Worker processes (default: all cores). ``1`` runs in this process.
    scheduler : str, optional
        Address of an existing Dask scheduler (``tcp://host:port``).
    backend : {"auto", "inline", "process", "dask"}
        ``auto``: ``dask`` with a scheduler or more than one worker (and more
        than one chunk left), else ``inline``.
    engine : str
        Engine name (``"batch"``; ``"toy"`` for tests).
    progress : bool or callable
        True: a rich progress bar on stderr; a callable gets
        ``(runs_done, runs_total)`` after each chunk.

    Returns
    -------
    SweepResult

    Raises
    ------
    UserError
        Bad output directory, unreachable scheduler, bad worker count.
    SweepInterrupted
        On Ctrl-C (finished chunks are kept; rerun to resume).

    Notes
    -----
    With more than one worker, worker processes are started by spawning: a
    script calling this needs the ``if __name__ == "__main__":`` guard.
    """
    if backend not in BACKENDS:
        raise UserError(f"backend {backend!r} is not allowed: expected one of {', '.join(BACKENDS)}")
    plan = experiment if isinstance(experiment, SweepPlan) else plan_sweep(experiment, engine)
    if workers is None:
        workers = available_cores()
    if workers < 1:
        raise UserError(f"--workers {workers} is not allowed: expected an integer >= 1")
    check_sweep_memory(
        plan.experiment, len(plan.design.points), plan.chunk_size, min(workers, len(plan.chunks)), plan.engine
    )
    store = ResultStore(out)
    with store.lock():
        return _run_locked(plan, store, workers, scheduler, backend, progress)


def _run_locked(
    plan: SweepPlan,
    store: ResultStore,
    workers: int,
    scheduler: str | None,
    backend: str,
    progress: bool | ProgressFn,
) -> SweepResult:
    """The body of :func:`run_sweep`, run while holding the directory's lock."""
    manifest = store.prepare(build_manifest(plan))
    done, damaged = store.verify_chunks(expected_rows(plan), manifest)
    for c in damaged:
        store.discard_chunk(c)
    records = manifest.setdefault("chunk_files", {})
    pending = [c for c in range(len(plan.chunks)) if c not in done]
    if backend == "auto":
        backend = "dask" if scheduler or (workers > 1 and len(pending) > 1) else "inline"
    if backend == "inline":
        workers = 1
    total_runs = plan.n_runs
    runs_done = sum(len(plan.chunks[c]) for c in done if c < len(plan.chunks))
    session: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "backend": backend,
        "workers": workers,
        "scheduler": scheduler,
        "chunks_on_disk": len(done),
        "chunks_damaged": {part_name(c): why for c, why in damaged.items()},
    }
    bar = _ProgressBar(plan.experiment.name, total_runs, runs_done) if progress is True else None
    callback = progress if callable(progress) else None
    t0 = t_wall = time.perf_counter()
    runs_run = chunks_run = steps_run = 0
    cpu = 0.0
    status = "complete"

    def finished(res: ChunkResult) -> None:
        nonlocal runs_run, chunks_run, steps_run, runs_done, cpu
        path = store.write_chunk(res.chunk, res.table)
        records[str(res.chunk)] = store.record_chunk(res.chunk, path, res.table.num_rows)
        chunks_run += 1
        runs_run += res.runs
        runs_done += res.runs
        steps_run += plan.citizen_steps(plan.chunks[res.chunk])
        cpu += res.cpu_seconds
        elapsed = time.perf_counter() - t0
        if bar is not None:
            bar.update(runs_done, steps_run / elapsed if elapsed > 0 else 0.0)
        if callback is not None:
            callback(runs_done, total_runs)

    try:
        if bar is not None:
            bar.start()
        if pending:
            with open_executor(backend, workers, scheduler) as ex:
                t0 = time.perf_counter()
                if ex is None:
                    for c in pending:
                        finished(run_chunk(make_task(plan, c)))
                else:
                    _run_on(ex, plan, pending, finished, window=2 * workers + 2)
    except KeyboardInterrupt:
        if len(store.done_chunks()) >= len(plan.chunks):
            status = "complete"
            raise SweepInterrupted(
                f"interrupted while shutting down; all {len(plan.chunks)} chunks are saved"
            ) from None
        status = "interrupted"
        raise SweepInterrupted(
            f"interrupted: {len(done) + chunks_run} of {len(plan.chunks)} chunks are saved in {store.root}; "
            "run the same command again to finish the rest"
        ) from None
    finally:
        if bar is not None:
            bar.stop()
        seconds = time.perf_counter() - t0
        session.update(
            chunks_run=chunks_run,
            runs_run=runs_run,
            seconds=round(seconds, 3),
            wall_seconds=round(time.perf_counter() - t_wall, 3),
            citizen_steps=steps_run,
            citizen_steps_per_second=round(steps_run / seconds, 1) if seconds > 0 and steps_run else None,
            # CPU time of the chunks themselves (all workers): per-CPU-second throughput, and the
            # share of the workers' wall time they spent computing (low: overhead or a busy machine)
            cpu_seconds=round(cpu, 3),
            citizen_steps_per_cpu_second=round(steps_run / cpu, 1) if cpu > 0 else None,
            utilisation=round(cpu / (seconds * workers), 3) if seconds > 0 and cpu > 0 else None,
            status=status if sys.exc_info()[0] in (None, SweepInterrupted) else "failed",
        )
        manifest["sessions"].append(session)
        if session["status"] == "complete" and len(store.done_chunks()) >= len(plan.chunks):
            manifest["status"] = "complete"
        else:  # never left saying "running" after this process stopped
            manifest["status"] = "incomplete" if session["status"] == "complete" else session["status"]
        with contextlib.suppress(OSError):
            store.write_manifest(manifest)
    return SweepResult(
        out=store.root,
        n_runs=total_runs,
        n_chunks=len(plan.chunks),
        runs_run=runs_run,
        chunks_run=chunks_run,
        seconds=seconds,
        citizen_steps=steps_run,
        backend=backend,
        workers=workers,
        session=session,
        damaged=damaged,
    )


def _run_on(
    ex: Executor, plan: SweepPlan, pending: list[int], finished: Callable[[ChunkResult], None], window: int
) -> None:
    """Submit chunks (``window`` at a time) and store each as it finishes."""
    queue = list(pending)
    running: set[Future[ChunkResult]] = set()
    try:
        while queue or running:
            while queue and len(running) < window:
                running.add(ex.submit(run_chunk, make_task(plan, queue.pop(0))))
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for fut in sorted(done, key=lambda f: f.result().chunk):
                finished(fut.result())
    finally:
        for fut in running:
            fut.cancel()


__all__ = [
    "BACKENDS",
    "CITIZENS_PER_CHUNK",
    "MAX_DEFAULT_CHUNK",
    "MIN_DEFAULT_CHUNK",
    "MODEL_MODULES",
    "RUN_RULE",
    "SEED_RULE",
    "TARGET_CHUNKS",
    "ChunkResult",
    "ChunkTask",
    "ProgressFn",
    "SweepInterrupted",
    "SweepPlan",
    "SweepResult",
    "build_manifest",
    "check_sweep_memory",
    "default_chunk_size",
    "expected_rows",
    "make_task",
    "model_fingerprint",
    "plan_sweep",
    "rows_per_run",
    "run_chunk",
    "run_sweep",
    "summary_row",
]
