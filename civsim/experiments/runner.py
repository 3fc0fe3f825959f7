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
"""

from __future__ import annotations

import contextlib
import json
import math
import platform
import sys
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from civsim import limits
from civsim import params as schema
from civsim.errors import UserError
from civsim.experiments.designs import Design, build_design
from civsim.experiments.engines import get_engine
from civsim.experiments.executors import available_cores, open_executor, tune_malloc
from civsim.experiments.spec import MAX_RUNS, Experiment, count_points
from civsim.experiments.storage import FORMAT, ResultStore, identity_hash, part_name

BACKENDS: tuple[str, ...] = ("auto", "inline", "process", "dask")
"""Allowed ``backend`` values of :func:`run_sweep`."""

SEED_RULE = "np.random.SeedSequence(seed, spawn_key=(point, replicate))"
RUN_RULE = "run = point * replicates + replicate"
CITIZENS_PER_CHUNK = 400_000
"""Target citizens x runs per chunk when the file gives no ``chunk_size``."""
MAX_DEFAULT_CHUNK = 32
MIN_DEFAULT_CHUNK = 4
TARGET_CHUNKS = 16


class SweepInterrupted(Exception):
    """A sweep stopped by Ctrl-C; finished chunks are on disk."""


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


MODEL_MODULES: tuple[str, ...] = (
    "civsim.params",
    "civsim.parameters.param",
    "civsim.parameters.locality",
    "civsim.parameters.austerity",
    "civsim.parameters.outcomes",
    "civsim.parameters.whole_systems",
    "civsim.parameters.coproduction",
    "civsim.parameters.engagement",
    "civsim.parameters.inclusion",
    "civsim.parameters.resilience",
    "civsim.parameters.cooperation",
    "civsim.parameters.schema",
    "civsim.rules",
    "civsim.rules.draws",
    "civsim.rules.citizens",
    "civsim.rules.networks",
    "civsim.rules.agencies",
    "civsim.rules.outcomes",
    "civsim.rules.council",
    "civsim.inputs",
    "civsim.kernels",
    "civsim.world",
    "civsim.process",
    "civsim.metrics",
    "civsim.seeding",
    "civsim.batch.core",
)
"""Modules whose source decides a run's results (hashed by :func:`model_fingerprint`)."""


def model_fingerprint(engine: str = "batch") -> str:
    """A short hash of the model's source code, part of a sweep's identity.

    Results made by different model code are never mixed in one directory:
    resuming after the model changed is refused like a changed experiment.
    """
    import hashlib
    import importlib.util

    h = hashlib.sha256(engine.encode())
    for name in MODEL_MODULES if engine == "batch" else ("civsim.experiments.engines",):
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:  # pragma: no cover - broken install
            continue
        h.update(name.encode())
        h.update(Path(spec.origin).read_bytes())
    return h.hexdigest()[:16]


def default_chunk_size(n_citizens: int, n_runs: int) -> int:
    """Runs per chunk when an experiment does not say.

    About 400,000 citizens a chunk (large batches vectorise best), at most
    32 runs, and small enough to make some 16 chunks for load balancing, but
    not below 4 runs. Depends only on the experiment, never on the workers.
    """
    by_size = max(1, CITIZENS_PER_CHUNK // max(n_citizens, 1))
    by_balance = max(MIN_DEFAULT_CHUNK, math.ceil(n_runs / TARGET_CHUNKS))
    return int(max(1, min(MAX_DEFAULT_CHUNK, by_size, by_balance)))


@dataclass
class SweepPlan:
    """Everything a sweep will run, resolved from an experiment.

    Attributes
    ----------
    experiment : Experiment
        The validated experiment file.
    design : Design
        The design points (factor values).
    resolved : list of dict
        Fully resolved parameters of each point.
    engine : str
        Engine name (see :mod:`civsim.experiments.engines`).
    chunk_size : int
        Maximum runs per chunk.
    chunks : list of list of int
        Run ids of each chunk, in chunk order.
    identity : dict
        What determines the results; its hash guards a results directory.
    """

    experiment: Experiment
    design: Design
    resolved: list[dict[str, Any]]
    engine: str
    chunk_size: int
    chunks: list[list[int]]
    identity: dict[str, Any]

    @property
    def replicates(self) -> int:
        """Runs per point."""
        return self.experiment.replicates

    @property
    def n_runs(self) -> int:
        """Total runs: points x replicates."""
        return len(self.design.points) * self.replicates

    @property
    def hash(self) -> str:
        """SHA-256 of :attr:`identity`."""
        return identity_hash(self.identity)

    def run_of(self, run: int) -> tuple[int, int]:
        """``(point, replicate)`` of a run id."""
        return divmod(run, self.replicates)

    def citizen_steps(self, runs: list[int]) -> int:
        """Citizens x steps simulated by these runs."""
        steps = self.experiment.steps
        return sum(int(self.resolved[self.run_of(r)[0]]["n_citizens"]) * steps for r in runs)

    def seed_of(self, run: int) -> np.random.SeedSequence:
        """The seed sequence of a run (see :data:`SEED_RULE`)."""
        point, rep = self.run_of(run)
        return np.random.SeedSequence(self.experiment.seed, spawn_key=(point, rep))


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


def _max_citizens(experiment: Experiment) -> int:
    """The most citizens any point of the experiment has (a factor may vary ``n_citizens``)."""
    n = int(schema.resolve(experiment.base)["n_citizens"])
    for f in experiment.factors:
        if f.name == "n_citizens":
            n = int(max(f.values) if f.values is not None else (f.high or n))
    return n


def check_sweep_memory(
    experiment: Experiment, n_points: int, chunk_size: int, workers: int, engine: str = "batch"
) -> None:
    """Refuse (one line) a sweep whose estimated peak memory exceeds the budget (see :mod:`civsim.limits`)."""
    out = experiment.output
    row = (len(out.metrics) + 4 + len(experiment.factors)) * 8 if out.keep == "series" else 0
    steps = experiment.steps // out.every + 1 if out.keep == "series" else experiment.steps
    need = limits.sweep_bytes(
        n_points, _max_citizens(experiment), chunk_size, steps, workers, engine, series_row_bytes=row
    )
    limits.check(
        need,
        f"{experiment.path}: {n_points:,} points, chunks of {chunk_size} runs of up to "
        f"{_max_citizens(experiment):,} citizens on {workers} worker(s)",
        "use fewer points, a smaller chunk_size or fewer --workers",
    )


def rows_per_run(plan: SweepPlan) -> int:
    """Rows each run writes: 1 (summary), or its recorded steps (series: 0, every, 2 every, ..., last)."""
    out = plan.experiment.output
    if out.keep != "series":
        return 1
    steps = plan.experiment.steps
    return steps // out.every + 1 + (1 if steps % out.every else 0)


def expected_rows(plan: SweepPlan) -> dict[int, int]:
    """Rows of each chunk file, from the plan alone."""
    per = rows_per_run(plan)
    return {c: len(runs) * per for c, runs in enumerate(plan.chunks)}


def _chunk_runs(resolved: list[dict[str, Any]], replicates: int, size: int) -> list[list[int]]:
    """Group runs by structural parameters (first appearance order), then split."""
    structural = [name for name, p in schema.SCHEMA.items() if p.structural]
    groups: dict[str, list[int]] = {}
    for point, params in enumerate(resolved):
        key = json.dumps([_jsonable(params[name]) for name in structural])
        groups.setdefault(key, []).extend(point * replicates + r for r in range(replicates))
    chunks = []
    for runs in groups.values():
        chunks.extend(runs[i : i + size] for i in range(0, len(runs), size))
    return chunks


# --------------------------------------------------------------------------
# One chunk


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


# --------------------------------------------------------------------------
# Executors


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version(), "platform": platform.platform()}
    for pkg in ("civsim", "numpy", "scipy", "pandas", "pyarrow", "SALib", "dask", "distributed", "mesa"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            if pkg == "civsim":
                import civsim

                out[pkg] = civsim.__version__
    return out


def build_manifest(plan: SweepPlan) -> dict[str, Any]:
    """The manifest of a sweep (written before the first chunk)."""
    exp = plan.experiment
    design: dict[str, Any] = {"kind": plan.design.kind, "n_points": len(plan.design.points)}
    if plan.design.samples is not None:
        design["problem"] = plan.design.problem
        design["samples"] = plan.design.samples.tolist()
    return {
        "format": FORMAT,
        "hash": plan.hash,
        "experiment": {
            "name": exp.name,
            "description": exp.description,
            "path": str(exp.path),
            "scenario": exp.scenario,
            "text": exp.text,
        },
        "identity": plan.identity,
        "design": design,
        "seed_rule": SEED_RULE,
        "run_rule": RUN_RULE,
        "n_runs": plan.n_runs,
        "n_chunks": len(plan.chunks),
        "chunks": plan.chunks,
        "versions": _versions(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "status": "running",
        "sessions": [],
    }


# --------------------------------------------------------------------------
# The sweep


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


class _ProgressBar:
    """A rich progress bar over runs, with citizen-steps/s and ETA."""

    def __init__(self, name: str, total: int, done: int) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("runs"),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self.task = self.progress.add_task(f"sweep {name}", total=total, completed=done, rate="")

    def start(self) -> None:
        self.progress.start()

    def stop(self) -> None:
        self.progress.stop()

    def update(self, done: int, rate: float) -> None:
        self.progress.update(self.task, completed=done, rate=f"{_si(rate)} citizen-steps/s")


def _si(x: float) -> str:
    if not math.isfinite(x) or x <= 0:
        return "-"
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if x >= scale:
            return f"{x / scale:.2f}{unit}"
    return f"{x:.0f}"
