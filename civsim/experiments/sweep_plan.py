"""A sweep's plan: its runs, their seeds and chunks, the memory check and the manifest.

The plan follows from the experiment alone (see :mod:`civsim.experiments.runner`):
runs are numbered :data:`RUN_RULE`, seeded by :data:`SEED_RULE`, and grouped into
chunks of equal structural parameters.
"""

from __future__ import annotations

import json
import math
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from civsim import limits
from civsim import params as schema
from civsim.experiments.designs import Design
from civsim.experiments.spec import Experiment
from civsim.experiments.storage import FORMAT, identity_hash

SEED_RULE = "np.random.SeedSequence(seed, spawn_key=(point, replicate))"
RUN_RULE = "run = point * replicates + replicate"
CITIZENS_PER_CHUNK = 400_000
"""Target citizens x runs per chunk when the file gives no ``chunk_size``."""
MAX_DEFAULT_CHUNK = 32
MIN_DEFAULT_CHUNK = 4
TARGET_CHUNKS = 16


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


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
