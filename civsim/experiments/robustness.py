"""Robustness of strategies across futures: mean, tail, satisficing, regret.

For a metric ``v[s, f]`` -- strategy ``s`` in future ``f``, the mean over
replicates -- and "higher is better" (flip the signs for lower):

- ``mean``: the mean over futures;
- ``p10``: the 10th percentile over futures, the bad tail (``p90`` when
  lower is better; numpy's linear interpolation);
- ``satisficing``: the share of futures with ``v >= threshold``
  (``<=`` when lower is better), Simon's (1956) "good enough";
- ``max_regret``: ``max_f (max_s' v[s', f] - v[s, f])``, the most a strategy
  leaves on the table against the best strategy in hindsight in any future
  (Savage 1951), and ``mean_regret`` its mean over futures.

Intervals come from a paired bootstrap over replicates: each draw
resamples, in every future, the replicate indices with replacement -- the
same indices for every strategy, since replicate ``r`` of every strategy
shares its seed -- and recomputes every statistic; the interval holds the
middle ``level`` of the draws. With one replicate per future the intervals
have zero width.

References
----------
Savage (1951), Journal of the American Statistical Association 46(253), 55-67.
Simon (1956), Psychological Review 63(2), 129-138.
McPhail et al. (2018), Earth's Future 6(2), 169-191 (robustness metrics).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from civsim.errors import UserError

STATS: tuple[str, ...] = ("mean", "tail", "satisficing", "max_regret", "mean_regret")


@dataclass
class Robustness:
    """Result of :func:`robustness`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per strategy (file order): each statistic of :data:`STATS`
        with ``<stat>_lo`` / ``<stat>_hi`` interval bounds; the tail column
        is named ``p10`` (higher is better) or ``p90`` (lower is better).
    per_future : pandas.DataFrame
        ``strategy``, ``future``, ``value`` (mean over replicates),
        ``regret`` and ``satisfied``.
    metric : str
    higher_is_better : bool
    threshold : float or None
    n_futures, n_replicates : int
    level : float
        Interval level (e.g. 0.9).
    notes : list of str
    """

    table: pd.DataFrame
    per_future: pd.DataFrame
    metric: str
    higher_is_better: bool
    threshold: float | None
    n_futures: int
    n_replicates: int
    level: float
    notes: list[str] = field(default_factory=list)

    @property
    def tail_name(self) -> str:
        """``p10`` or ``p90``."""
        return "p10" if self.higher_is_better else "p90"


def _plain(v: object) -> object:
    return v.item() if isinstance(v, np.generic) else v


def value_cube(
    frame: pd.DataFrame, metric: str, strategies: list[str] | None = None
) -> tuple[np.ndarray, list[str], list, int]:
    """``V[s, f, r]``: the metric per strategy, future and replicate (NaN where missing).

    Raises
    ------
    UserError
        When the table lacks a ``strategy`` or ``future`` column.
    """
    for col in ("strategy", "future"):
        if col not in frame.columns:
            raise UserError(
                f"the table has no {col!r} column: robustness needs one row per strategy and "
                "future (and replicate); run a strategy experiment, or add the columns"
            )
    if "replicate" not in frame.columns:
        frame = frame.assign(replicate=frame.groupby(["strategy", "future"]).cumcount())
    names = strategies or list(dict.fromkeys(frame["strategy"].astype(str)))
    futures = sorted(frame["future"].unique())
    reps = sorted(frame["replicate"].unique())
    si = {s: i for i, s in enumerate(names)}
    fi = {f: i for i, f in enumerate(futures)}
    ri = {r: i for i, r in enumerate(reps)}
    cube = np.full((len(names), len(futures), len(reps)), np.nan)
    s_idx = frame["strategy"].astype(str).map(si).to_numpy()
    ok = ~pd.isna(s_idx)
    cube[
        s_idx[ok].astype(int),
        frame["future"].map(fi).to_numpy()[ok],
        frame["replicate"].map(ri).to_numpy()[ok],
    ] = frame[metric].to_numpy(float)[ok]
    return cube, names, futures, len(reps)


def _stats(v: np.ndarray, higher: bool, threshold: float | None) -> dict[str, np.ndarray]:
    """Statistics over futures of ``v[..., s, f]`` (leading axes are bootstrap draws)."""
    best = np.nanmax(v, axis=-2, keepdims=True) if higher else np.nanmin(v, axis=-2, keepdims=True)
    regret = (best - v) if higher else (v - best)
    out = {
        "mean": np.nanmean(v, axis=-1),
        "tail": np.nanpercentile(v, 10 if higher else 90, axis=-1),
        "max_regret": np.nanmax(regret, axis=-1),
        "mean_regret": np.nanmean(regret, axis=-1),
    }
    if threshold is not None:
        ok = (v >= threshold) if higher else (v <= threshold)
        out["satisficing"] = np.where(np.isnan(v), np.nan, ok).astype(float)
        out["satisficing"] = np.nanmean(out["satisficing"], axis=-1)
    return out


def robustness(
    frame: pd.DataFrame,
    metric: str,
    *,
    higher_is_better: bool = True,
    threshold: float | None = None,
    strategies: list[str] | None = None,
    n_boot: int = 1000,
    level: float = 0.9,
    seed: int = 0,
) -> Robustness:
    """Robustness statistics of each strategy over the futures.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows with ``strategy``, ``future``, optionally ``replicate``, and ``metric``.
    metric : str
        The column to judge strategies by.
    higher_is_better : bool
        Direction of the metric.
    threshold : float, optional
        Satisficing threshold (no satisficing column without one).
    strategies : list of str, optional
        Order (and subset) of strategies; default: order of appearance.
    n_boot : int
        Bootstrap draws (0: no intervals).
    level : float
        Interval level.
    seed : int
        Seed of the bootstrap's generator.

    Returns
    -------
    Robustness

    Raises
    ------
    UserError
        Fewer than one strategy or future, or a threshold no future meets
        under any strategy (satisficing would be 0 everywhere: said as a note, not an error).
    """
    cube, names, futures, n_rep = value_cube(frame, metric, strategies)
    if not names or not futures:
        raise UserError("the table has no strategies or no futures; nothing to compare")
    notes = []
    missing = np.isnan(cube).all(axis=2)
    if missing.any():
        s, f = np.argwhere(missing)[0]
        raise UserError(
            f"strategy {names[s]!r} has no finite {metric} in future {_plain(futures[f])!r} "
            f"({int(missing.sum())} strategy-future pairs missing); the comparison needs every pair"
        )
    v = np.nanmean(cube, axis=2)
    point = _stats(v, higher_is_better, threshold)
    if threshold is not None and np.all(point["satisficing"] == 0):
        notes.append(f"no strategy meets the threshold {threshold:g} in any future")
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    boots: dict[str, np.ndarray] = {}
    if n_boot > 0 and n_rep > 1:
        idx = rng.integers(0, n_rep, size=(n_boot, 1, len(futures), n_rep))
        draws = np.take_along_axis(
            cube[None, :, :, :], np.broadcast_to(idx, (n_boot, len(names), len(futures), n_rep)), axis=3
        )
        vb = np.nanmean(draws, axis=3)
        boots = _stats(vb, higher_is_better, threshold)
    elif n_rep == 1:
        notes.append("one replicate per future: intervals have zero width")
    q = ((1 - level) / 2, 1 - (1 - level) / 2)
    tail = "p10" if higher_is_better else "p90"
    rows = []
    for i, s in enumerate(names):
        row: dict[str, object] = {"strategy": s}
        for key in STATS:
            if key not in point:
                continue
            col = tail if key == "tail" else key
            row[col] = float(point[key][i])
            if key in boots:
                lo, hi = np.nanquantile(boots[key][:, i], q)
                row[f"{col}_lo"], row[f"{col}_hi"] = float(lo), float(hi)
            else:
                row[f"{col}_lo"] = row[f"{col}_hi"] = float(point[key][i])
        rows.append(row)
    best = np.nanmax(v, axis=0) if higher_is_better else np.nanmin(v, axis=0)
    regret = (best - v) if higher_is_better else (v - best)
    pf = pd.DataFrame(
        {
            "strategy": np.repeat(names, len(futures)),
            "future": np.tile(futures, len(names)),
            "value": v.ravel(),
            "regret": regret.ravel(),
        }
    )
    if threshold is not None:
        pf["satisfied"] = (pf["value"] >= threshold) if higher_is_better else (pf["value"] <= threshold)
    return Robustness(
        pd.DataFrame(rows), pf, metric, higher_is_better, threshold, len(futures), n_rep, level, notes
    )


def _interval(ax, y: float, lo: float, hi: float) -> None:  # noqa: ANN001 - a matplotlib Axes
    """An interval [lo, hi] at height y with end caps (nothing if either end is missing)."""
    if np.isfinite(lo) and np.isfinite(hi):
        ax.hlines(y, lo, hi, color="k", lw=1)
        ax.vlines([lo, hi], y - 0.12, y + 0.12, color="k", lw=1)


def plot_robustness(r: Robustness, path) -> None:  # noqa: ANN001 - path-like
    """Two panels: the metric across futures per strategy (mean and tail
    marked), and max regret with its interval."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(r.table["strategy"])
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 0.6 * len(names) + 2.2), sharey=True)
    for i, s in enumerate(names):
        vals = r.per_future.loc[r.per_future["strategy"] == s, "value"].to_numpy()
        jitter = np.random.default_rng(i).uniform(-0.15, 0.15, len(vals))
        a1.scatter(vals, i + jitter, s=6, alpha=0.35, color="C0")
        row = r.table.iloc[i]
        # intervals drawn from their ends: a bootstrap interval of a max (or of a tail) need not
        # contain the point estimate, which errorbar's relative lengths cannot draw
        _interval(a1, i, row["mean_lo"], row["mean_hi"])
        a1.plot(row["mean"], i, "o", color="k", label="mean" if i == 0 else None)
        a1.plot(row[r.tail_name], i, "v", color="C3", label=r.tail_name if i == 0 else None)
        a2.barh(i, row["max_regret"], color="C1", alpha=0.8)
        _interval(a2, i, row["max_regret_lo"], row["max_regret_hi"])
    if r.threshold is not None:
        a1.axvline(r.threshold, color="grey", ls="--", lw=1, label=f"threshold {r.threshold:.3g}")
    a1.set_yticks(range(len(names)), names)
    a1.invert_yaxis()
    a1.set_xlabel(
        f"{r.metric} across {r.n_futures} futures ({'higher' if r.higher_is_better else 'lower'} is better)"
    )
    a1.legend(loc="best", fontsize=8)
    a2.set_xlabel(f"max regret vs the best strategy in each future ({int(100 * r.level)}% interval)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
