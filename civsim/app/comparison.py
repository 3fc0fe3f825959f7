"""Scenario comparison for the Compare page (no UI code here).

Each scenario runs R replicates through the batch core. Replicate r of every
scenario uses the same seed stream (``SeedSequence(seed, spawn_key=(r,))``,
common random numbers), so differences between scenarios are paired and
their intervals narrow.
"""

from __future__ import annotations

import concurrent.futures
import concurrent.futures.process
import io
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from civsim import params as P
from civsim.app import workers as workers_mod
from civsim.calibration.posterior import Posterior, draw_points
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
UNITS: dict[str, str] = {
    "outcome_index": "index, 0–1",
    "outcome_index_marginalised": "index, 0–1",
    "outcome_index_majority": "index, 0–1",
    "inclusion_gap": "index points",
    "engagement": "percentage points",
    "trust": "index, 0–1",
    "networks": "count",
    "alliances": "count",
    "coordination_density": "share of agency pairs",
    "budget": "per citizen per year (1 = reference)",
}
"""Units of the differences (docs/outputs.md)."""
BETTER: dict[str, int] = {
    "outcome_index": 1,
    "outcome_index_marginalised": 1,
    "outcome_index_majority": 1,
    "inclusion_gap": -1,
    "engagement": 1,
    "trust": 1,
    "networks": 1,
    "alliances": 1,
    "coordination_density": 1,
    "budget": 0,
}
"""Which way is better: +1 higher, -1 lower, 0 neither (more budget is not in itself an outcome)."""
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
    preset: str = ""
    """The preset this scenario started from (kept when it is renamed or edited)."""

    def resolved(self) -> dict[str, Any]:
        try:
            return P.resolve(self.overrides)
        except P.ParamError as exc:
            raise UserError(f"{self.name}: {exc}") from None

    def to_toml(
        self, seed: int | None = None, steps: int | None = None, reps: int = 1, n_citizens: int | None = None
    ) -> str:
        """The scenario as a file that ``civsim run FILE`` alone reproduces: the page's seed,
        months and replicates, and the citizen count the page ran (written out even when it
        is the default, so a later change of default cannot change the file's meaning)."""
        overrides = dict(self.overrides)
        try:
            overrides["n_citizens"] = (
                int(n_citizens) if n_citizens is not None else self.resolved()["n_citizens"]
            )
        except UserError:
            pass  # an invalid combination is reported when run; write what the user has
        return scenario_to_toml(
            self.name,
            self.description,
            overrides,
            self.seed if seed is None else int(seed),
            self.steps if steps is None else int(steps),
            int(reps),
        )


def scenario_points(specs: list[ScenarioSpec], n_citizens: int | None = None) -> list[dict[str, Any]]:
    """Each scenario's resolved parameters (with the page's citizen count, if given)."""
    if not 1 <= len(specs) <= 4:
        raise UserError(f"compare takes 1 to 4 scenarios, got {len(specs)}")
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise UserError("scenario names must differ: " + ", ".join(names))
    points = []
    for spec in specs:
        point = spec.resolved()
        if n_citizens is not None:
            point["n_citizens"] = P.check("n_citizens", n_citizens)
        points.append(point)
    return points


def run_comparison(
    specs: list[ScenarioSpec],
    reps: int,
    steps: int,
    seed: int = 0,
    n_citizens: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
    workers: int = 1,
    posterior: Posterior | None = None,
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
        return _run_comparison(specs, reps, steps, seed, n_citizens, progress, cancel, workers, posterior)


def _run_comparison(
    specs: list[ScenarioSpec],
    reps: int,
    steps: int,
    seed: int = 0,
    n_citizens: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
    workers: int = 1,
    posterior: Posterior | None = None,
) -> pd.DataFrame:
    """Run every scenario ``reps`` times for ``steps`` months.

    Returns the long frame: ``scenario``, ``rep``, ``step`` and every metric.
    Replicate r of every scenario uses ``SeedSequence(seed, spawn_key=(r,))``,
    the streams of ``civsim run --reps``. ``progress(done, total)`` counts
    replicate-months over all scenarios. With ``workers > 1`` the replicates
    run in chunks on :mod:`civsim.app.workers`' process pool; the frame is
    identical to ``workers=1``. With a ``posterior``, replicate r of every
    scenario takes posterior draw r (:func:`civsim.calibration.posterior.draw_points`,
    as ``civsim run --posterior``), so the bands carry parameter uncertainty
    and the differences stay paired.
    """
    points = scenario_points(specs, n_citizens)
    draws = draw_points(posterior, reps, seed) if posterior is not None else None
    if draws is not None:
        for point in points:
            check_draws(point, draws)
    total = len(specs) * reps * steps
    if workers <= 1:
        frames = []
        for i, (spec, point) in enumerate(zip(specs, points, strict=True)):
            base = i * reps * steps

            def on_month(m: int, base: int = base) -> None:
                if progress is not None:
                    progress(base + m * reps, total)

            f = workers_mod.run_chunk(
                point, 0, reps, steps, seed, on_month, (lambda: cancel.is_set()) if cancel else None, draws
            )
            if f is None:
                raise Cancelled()
            f.insert(0, "scenario", spec.name)
            frames.append(f)
        return pd.concat(frames, ignore_index=True)
    return _run_parallel(specs, points, reps, steps, seed, progress, cancel, workers, draws)


def check_draws(point: dict[str, Any], draws: list[dict[str, float]]) -> None:
    """Refuse (one line) a posterior draw the scenario cannot take, before anything runs."""
    for d in draws:
        try:
            P.resolve({**point, **d})
        except P.ParamError as exc:
            raise UserError(f"the calibrated posterior does not fit this scenario: {exc}") from None


def _run_parallel(specs, points, reps, steps, seed, progress, cancel, workers, draws=None) -> pd.DataFrame:
    pool = workers_mod.get_pool(workers)
    # lcm(scenarios, workers) equal chunks: every worker gets the same share of the work
    per_scenario = min(reps, pool.workers // math.gcd(len(specs), pool.workers))
    tasks = [(i, lo, hi) for i in range(len(specs)) for lo, hi in workers_mod.chunks(reps, per_scenario)]
    total = len(specs) * reps * steps
    done_months = [0] * len(tasks)
    lock = threading.Lock()

    def listener(task: int, months: int) -> None:
        with lock:
            done_months[task] = months
            done = sum(m * (hi - lo) for m, (_, lo, hi) in zip(done_months, tasks, strict=True))
        if progress is not None:
            progress(done, total)

    job = pool.new_job(listener)
    try:
        futures = [
            pool.submit(job, k, points[i], lo, hi, steps, seed, draws) for k, (i, lo, hi) in enumerate(tasks)
        ]
        pending = set(futures)
        while pending:
            if cancel is not None and cancel.is_set():
                pool.cancel(job)
            done, pending = concurrent.futures.wait(pending, timeout=0.1)
            for fut in done:
                fut.result()  # raise a worker's error here
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        results = [fut.result() for fut in futures]
    except concurrent.futures.process.BrokenProcessPool:
        workers_mod.reset_pool()
        raise UserError("a worker process stopped unexpectedly; run the comparison again") from None
    finally:
        pool.end_job(job)
    if any(r is None for r in results):
        raise Cancelled()
    frames = []
    for i, spec in enumerate(specs):
        f = pd.concat([r for r, (j, _, _) in zip(results, tasks, strict=True) if j == i], ignore_index=True)
        f.insert(0, "scenario", spec.name)
        frames.append(f)
    if progress is not None:
        progress(total, total)
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


def verdict(metric: str, lo: float, hi: float) -> str:
    """'better', 'worse' or '' (interval spans 0, no interval, or no better direction)."""
    way = BETTER.get(metric, 0)
    if way == 0 or not (np.isfinite(lo) and np.isfinite(hi)):
        return ""
    if lo > 0 or hi < 0:
        return "better" if (lo > 0) == (way > 0) else "worse"
    return ""


def difference_table(diffs: pd.DataFrame) -> pd.DataFrame:
    """The table shown on the page: one row per metric and scenario, a column per year.

    Each cell is the mean difference and its 90% interval, followed by
    "(better)" or "(worse)" when the interval excludes zero and the measure
    has a better direction.
    """
    rows = []
    for (metric, name), g in diffs.groupby(["metric", "scenario"], sort=False):
        row = {
            "measure": METRICS.get(metric, metric),
            "unit": UNITS.get(metric, ""),
            "scenario": f"{name} − {g['reference'].iloc[0]}",
        }
        for _, r in g.iterrows():
            k = 100 if metric in PERCENT else 1
            if np.isnan(r["diff"]):
                cell = "n/a (run shorter)"
            elif np.isnan(r["lo"]):
                cell = f"{k * r['diff']:+.3f}"
            else:
                cell = f"{k * r['diff']:+.3f} [{k * r['lo']:+.3f}, {k * r['hi']:+.3f}]"
                cue = verdict(metric, r["lo"], r["hi"])
                if cue:
                    cell += f" ({cue})"
            row[f"year {int(r['year'])}"] = cell
        rows.append(row)
    return pd.DataFrame(rows)


def end_means(
    frame: pd.DataFrame, metrics: tuple[str, ...] = ("outcome_index", "inclusion_gap", "engagement", "trust")
) -> pd.DataFrame:
    """Each scenario's mean over replicates at its last month: the "end mean" that
    ``civsim run FILE`` prints for the downloaded scenario file."""
    last = frame[frame["step"] == frame["step"].max()]
    out = last.groupby("scenario", sort=False)[list(metrics)].mean().reset_index()
    return out


def to_csv(frame: pd.DataFrame) -> str:
    buf = io.StringIO()
    frame.to_csv(buf, index=False, float_format="%.6g")
    return buf.getvalue()
