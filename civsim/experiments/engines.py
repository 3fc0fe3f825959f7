"""Engines a sweep can run, by name.

A sweep sends each chunk of runs to an engine by *name*, so a worker process
(local or on a remote Dask cluster) imports the engine itself and nothing
but plain data crosses process boundaries.

- ``"batch"``: the vectorised batch core (:class:`civsim.batch.BatchModel`),
  with per-run summaries from :func:`civsim.metrics.summarise`.
- ``"toy"``: a tiny closed-form stand-in with the same inputs and outputs,
  for testing the sweep machinery (designs, chunking, storage, resume) in
  milliseconds. It is not a model of anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from civsim.experiments.spec import SERIES_METRICS

RunFn = Callable[[list[dict[str, Any]], list[np.random.SeedSequence], int], pd.DataFrame]
SummariseFn = Callable[[pd.DataFrame], dict[str, float]]


@dataclass(frozen=True)
class Engine:
    """An engine: how to run a batch and how to summarise one run.

    Attributes
    ----------
    name : str
        Registry key.
    run : callable
        ``run(points, seeds, steps) -> DataFrame`` with columns ``run``
        (0..B-1, the position in ``points``), ``step`` and the metrics. A
        run's rows must not depend on the other runs in the batch.
    summarise : callable
        ``summarise(frame_of_one_run) -> dict`` of per-run summary metrics.
    """

    name: str
    run: RunFn
    summarise: SummariseFn


def _batch_run(points: list[dict[str, Any]], seeds: list[np.random.SeedSequence], steps: int) -> pd.DataFrame:
    from civsim.batch import BatchModel

    model = BatchModel(points, seeds)
    model.run(steps)
    return model.frame()


def _batch_summarise(frame: pd.DataFrame) -> dict[str, float]:
    from civsim.metrics import summarise

    return summarise(frame)


def generic_summarise(frame: pd.DataFrame) -> dict[str, float]:
    """Final and mean value of every metric column of one run's frame."""
    out: dict[str, float] = {}
    cols = [c for c in frame.columns if c not in ("run", "step")]
    last = frame.iloc[-1]
    for c in cols:
        out[f"final_{c}"] = float(last[c])
        out[f"mean_{c}"] = float(frame[c].mean())
    return out


def _toy_run(points: list[dict[str, Any]], seeds: list[np.random.SeedSequence], steps: int) -> pd.DataFrame:
    """Closed-form series driven by a few levers plus each run's own noise."""
    frames = []
    t = np.arange(steps + 1, dtype=float)
    for b, (p, ss) in enumerate(zip(points, seeds, strict=True)):
        rng = np.random.default_rng(ss)
        noise = rng.normal(0.0, 0.001, size=(len(SERIES_METRICS), steps + 1)).cumsum(axis=1)
        budget = (1.0 + p.get("austerity_rate", 0.0)) ** (t / 12.0)
        coord = p.get("coordination_benefit", 0.5) * budget * (1.0 - p.get("coordination_cost", 0.04) * 4)
        reach = p.get("outreach", 0.0) - p.get("participation_barrier", 0.1)
        engagement = 0.22 + 0.3 * np.tanh(3 * reach) * (1 - np.exp(-t / 12))
        outcome = 0.55 + 0.05 * coord * (1 - np.exp(-t / 24)) + 0.1 * (budget - 1) + 0.05 * engagement
        cols = {
            "outcome_index": outcome,
            "outcome_index_council": outcome * 0.98,
            "inclusion_gap": 0.12 - 0.05 * engagement,
            "engagement": engagement,
            "trust": 0.5 + 0.2 * (budget - 1) + 0.1 * engagement,
            "budget": budget,
            "networks": 6.0 + 10 * engagement,
            "alliances": 2.0 * p.get("alliance_propensity", 0.02) * t / 12,
            "coordination_density": 0.2 * coord,
            "gain_per_spend": outcome / budget,
        }
        data = {"run": np.full(steps + 1, b), "step": np.arange(steps + 1)}
        for i, m in enumerate(SERIES_METRICS):
            data[m] = cols[m] + noise[i]
        frames.append(pd.DataFrame(data))
    return pd.concat(frames, ignore_index=True)


ENGINES: dict[str, Engine] = {
    "batch": Engine("batch", _batch_run, _batch_summarise),
    "toy": Engine("toy", _toy_run, generic_summarise),
}
"""Engines by name."""


def get_engine(name: str) -> Engine:
    """Look up an engine by name (``KeyError`` names the known ones)."""
    try:
        return ENGINES[name]
    except KeyError:
        raise KeyError(f"unknown engine {name!r}; known: {', '.join(ENGINES)}") from None
