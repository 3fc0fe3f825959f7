"""Scenario comparison for the Compare page (no UI code here).

Each scenario runs R replicates through the batch core. Replicate r of every
scenario uses the same seed stream (``SeedSequence(seed, spawn_key=(r,))``,
common random numbers), so differences between scenarios are paired and
their intervals narrow.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from civsim import params as P
from civsim import seeding
from civsim.batch import BatchModel
from civsim.errors import UserError
from civsim.limits import comparison_bytes, heavy_job
from civsim.scenario import scenario_to_toml

METRICS: dict[str, str] = {
    "outcome_index": "Valued-outcome index",
    "outcome_index_marginalised": "Outcome index, marginalised group",
    "outcome_index_majority": "Outcome index, majority group",
    "inclusion_gap": "Inclusion gap",
    "engagement": "Engagement",
    "trust": "Trust",
    "networks": "Citizen networks",
    "alliances": "Alliance ties",
    "coordination_density": "Coordination density",
    "budget": "Council budget",
}
"""Series offered on the Compare page and in its table of differences."""
PERCENT = {"engagement"}
BAND = (0.05, 0.95)
"""The band drawn around each scenario's mean: 5th to 95th percentile of replicates (90%)."""
DIFF_YEARS = (5, 10)


class Cancelled(Exception):
    """The user cancelled a comparison run."""


@dataclass
class ScenarioSpec:
    """One scenario on the Compare page: a preset or an edited copy."""

    name: str
    description: str = ""
    overrides: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    steps: int = 120

    def resolved(self) -> dict[str, Any]:
        try:
            return P.resolve(self.overrides)
        except P.ParamError as exc:
            raise UserError(f"{self.name}: {exc}") from None

    def to_toml(self) -> str:
        return scenario_to_toml(self.name, self.description, self.overrides, self.seed, self.steps)


def run_comparison(
    specs: list[ScenarioSpec],
    reps: int,
    steps: int,
    seed: int = 0,
    n_citizens: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
) -> pd.DataFrame:
    """Run every scenario ``reps`` times for ``steps`` months, within the app's limits.

    The memory the comparison needs is estimated first and refused (one
    line, :class:`civsim.limits.MemoryBudgetError`) when over the server's
    per-job limit or what is available; it then holds one of the server's
    heavy-job slots (:class:`civsim.limits.BusyError` when none is free).
    See :func:`_run_comparison` for the result.
    """
    sizes = [n_citizens] if n_citizens is not None else [s.resolved()["n_citizens"] for s in specs]
    n = int(max(sizes, default=0))
    with heavy_job(
        comparison_bytes(len(specs), int(reps), int(steps), n),
        f"{len(specs)} scenarios x {int(reps)} replicates x {n:,} citizens x {int(steps)} months",
        "use fewer replicates, citizens or months",
    ):
        return _run_comparison(specs, reps, steps, seed, n_citizens, progress, cancel)


def _run_comparison(
    specs: list[ScenarioSpec],
    reps: int,
    steps: int,
    seed: int = 0,
    n_citizens: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
) -> pd.DataFrame:
    """Run every scenario ``reps`` times for ``steps`` months.

    Returns the long frame: ``scenario``, ``rep``, ``step`` and every metric.
    ``progress(done, total)`` counts months over all scenarios.
    """
    if not 1 <= len(specs) <= 4:
        raise UserError(f"compare takes 1 to 4 scenarios, got {len(specs)}")
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise UserError("scenario names must differ: " + ", ".join(names))
    seeds = [seeding.run_sequence(seed, (r,)) for r in range(reps)]
    total = len(specs) * steps
    frames = []
    for i, spec in enumerate(specs):
        point = spec.resolved()
        if n_citizens is not None:
            point["n_citizens"] = P.check("n_citizens", n_citizens)
        model = BatchModel([dict(point) for _ in range(reps)], seeds)
        for t in range(steps):
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            model.step()
            if progress is not None:
                progress(i * steps + t + 1, total)
        f = model.frame().rename(columns={"run": "rep"})
        f.insert(0, "scenario", spec.name)
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


def bands(frame: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Mean and 90% band (5th-95th percentile over replicates) per scenario and step."""
    g = frame.groupby(["scenario", "step"], sort=False)[metric]
    out = pd.DataFrame({"mean": g.mean(), "lo": g.quantile(BAND[0]), "hi": g.quantile(BAND[1])}).reset_index()
    return out


def differences(
    frame: pd.DataFrame, metrics: list[str] | None = None, years: tuple[int, ...] = DIFF_YEARS
) -> pd.DataFrame:
    """Differences from the first scenario at the given years, with 90% intervals.

    Replicates are paired by seed, so for each scenario the difference is
    computed per replicate; the table gives its mean and a 90% t-interval of
    that mean (and NaN where the run is shorter than the year).
    """
    metrics = metrics or list(METRICS)
    names = list(dict.fromkeys(frame["scenario"]))
    ref = names[0]
    rows = []
    for year in years:
        step = 12 * year
        at = frame[frame["step"] == step]
        for metric in metrics:
            if metric not in frame:
                continue
            base = at[at["scenario"] == ref].set_index("rep")[metric]
            for name in names[1:]:
                other = at[at["scenario"] == name].set_index("rep")[metric]
                d = (other - base).dropna()
                row = {"year": year, "metric": metric, "scenario": name, "reference": ref}
                if len(d) == 0:
                    row.update(ref_mean=np.nan, mean=np.nan, diff=np.nan, lo=np.nan, hi=np.nan)
                else:
                    m = float(d.mean())
                    if len(d) > 1:
                        half = float(stats.t.ppf(0.95, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d)))
                    else:
                        half = np.nan
                    row.update(
                        ref_mean=float(base.mean()),
                        mean=float(other.mean()),
                        diff=m,
                        lo=m - half,
                        hi=m + half,
                    )
                rows.append(row)
    return pd.DataFrame(
        rows, columns=["year", "metric", "scenario", "reference", "ref_mean", "mean", "diff", "lo", "hi"]
    )


def difference_table(diffs: pd.DataFrame) -> pd.DataFrame:
    """The table shown on the page: one row per metric and scenario, a column per year."""
    rows = []
    for (metric, name), g in diffs.groupby(["metric", "scenario"], sort=False):
        row = {"measure": METRICS.get(metric, metric), "scenario": f"{name} − {g['reference'].iloc[0]}"}
        for _, r in g.iterrows():
            k = 100 if metric in PERCENT else 1
            unit = " pp" if metric in PERCENT else ""
            if np.isnan(r["diff"]):
                cell = "n/a (run shorter)"
            elif np.isnan(r["lo"]):
                cell = f"{k * r['diff']:+.3f}{unit}"
            else:
                cell = f"{k * r['diff']:+.3f}{unit} [{k * r['lo']:+.3f}, {k * r['hi']:+.3f}]"
            row[f"year {int(r['year'])}"] = cell
        rows.append(row)
    return pd.DataFrame(rows)


def to_csv(frame: pd.DataFrame) -> str:
    buf = io.StringIO()
    frame.to_csv(buf, index=False, float_format="%.6g")
    return buf.getvalue()
