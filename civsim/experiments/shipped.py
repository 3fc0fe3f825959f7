"""The shipped experiments' extra analyses and the figures in ``docs/experiments/``.

Most figures come straight from :func:`civsim.experiments.report.make_report`;
two questions need a little more:

- the Watts (2002) cascade window: the share of runs with a global cascade
  over mean degree and threshold, drawn next to the analytic boundary
  (:func:`watts_condition`);
- the inclusion tipping point: how much outreach, for each level of the
  participation barrier, lifts marginalised engagement through the midpoint
  between its low and high states (:func:`tipping_line`).

Usage::

    python -m civsim.experiments.shipped NAME [--runs runs] [--docs docs/experiments]

regenerates ``docs/experiments/NAME/`` from a finished sweep in ``runs/NAME``.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import poisson

from civsim.experiments.report import make_report
from civsim.experiments.results import load_results, per_run_outputs

CASCADE_SHARE = 0.1
"""A run has a global cascade when its final engagement exceeds this share."""

DOC_OUTPUTS: dict[str, list[str]] = {
    "austerity_coordination": [
        "final_outcome_index",
        "final_inclusion_gap",
        "final_coordination_density",
        "final_gain_per_spend",
    ],
    "alliances_austerity": [
        "final_outcome_index",
        "final_alliances",
        "final_inclusion_gap",
        "final_outcome_index_council",
    ],
    "inclusion_tipping": ["final_engagement_marginalised", "final_inclusion_gap"],
    "watts_cascades": [],
    "levers_sobol": [],
}
"""Outputs whose figures go into the docs, per shipped experiment."""


def vulnerable_degree(phi: float) -> int:
    """Largest degree k at which one engaged neighbour tips a node: floor(1/phi)."""
    return int(math.floor(1.0 / phi + 1e-9)) if phi > 0 else 10**9


def watts_condition(z: np.ndarray | float, phi: np.ndarray | float) -> np.ndarray:
    """Watts' cascade condition on a Poisson random graph, as ``lhs - z``.

    Notes
    -----
    With uniform threshold phi a node of degree k is vulnerable (one
    engaged neighbour tips it) when k <= K* = floor(1/phi). Global cascades
    are possible when (Watts 2002, eq. 4)

        sum_{k=1}^{K*} k (k - 1) P(k) > z,

    and for a Poisson degree distribution with mean z the sum is
    z^2 P[Poisson(z) <= K* - 2], so the condition is
    z P[Poisson(z) <= K* - 2] > 1. Returns ``sum - z``: positive inside
    the cascade window.

    References
    ----------
    Watts (2002), A simple model of global cascades on random networks.
    PNAS 99(9), 5766-5771.
    """
    z = np.asarray(z, dtype=float)
    phi = np.asarray(phi, dtype=float)
    kstar = np.floor(1.0 / np.where(phi > 0, phi, 1e-12) + 1e-9)
    return z * z * poisson.cdf(kstar - 2, z) - z


def watts_window(phi: float, z_max: float = 30.0) -> tuple[float, float] | None:
    """The range of mean degree z inside the cascade window for threshold phi (None if empty)."""
    zs = np.linspace(0.01, z_max, 30_000)
    inside = watts_condition(zs, phi) > 0
    if not inside.any():
        return None
    return float(zs[inside][0]), float(zs[inside][-1])


def cascade_frequency(runs: pd.DataFrame, share: float = CASCADE_SHARE) -> pd.DataFrame:
    """Share of runs with a global cascade at each (mean_degree, threshold_mean)."""
    hit = runs["final_engagement"] > share
    g = hit.groupby([runs["mean_degree"], runs["threshold_mean"]])
    return g.mean().rename("frequency").reset_index().assign(runs=g.size().to_numpy())


def plot_cascade_window(freq: pd.DataFrame, path: Path, share: float = CASCADE_SHARE) -> None:
    """Heatmap of cascade frequency with Watts' analytic boundary drawn over it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    zs = np.sort(freq["mean_degree"].unique())
    phis = np.sort(freq["threshold_mean"].unique())
    grid = freq.pivot(index="threshold_mean", columns="mean_degree", values="frequency").reindex(
        index=phis, columns=zs
    )
    fig, ax = plt.subplots(figsize=(7.2, 4.4))
    dz = (zs[1] - zs[0]) / 2 if len(zs) > 1 else 0.5
    dp = (phis[1] - phis[0]) / 2 if len(phis) > 1 else 0.01
    im = ax.imshow(
        grid.to_numpy(),
        origin="lower",
        aspect="auto",
        extent=(zs[0] - dz, zs[-1] + dz, phis[0] - dp, phis[-1] + dp),
        cmap="magma",
        vmin=0,
        vmax=1,
    )
    zf = np.linspace(zs[0] - dz, zs[-1] + dz, 600)
    pf = np.linspace(phis[0] - dp, phis[-1] + dp, 600)
    Z, PHI = np.meshgrid(zf, pf)
    ax.contour(Z, PHI, watts_condition(Z, PHI), levels=[0.0], colors="cyan", linewidths=1.6)
    ax.plot([], [], color="cyan", lw=1.6, label="analytic boundary (Watts 2002)")
    ax.set_xlabel("mean degree z")
    ax.set_ylabel("threshold phi")
    ax.legend(loc="upper right", fontsize=8, framealpha=0.8)
    fig.colorbar(im, ax=ax, label=f"share of runs with a cascade (> {share:.0%} engaged)")
    n = int(freq["runs"].min())
    ax.set_title(f"Cascade window: one seed citizen, N = 10,000, {n} runs per cell", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def tipping_line(runs: pd.DataFrame, x: str, y: str, out: str) -> pd.DataFrame:
    """Where ``out`` falls through the midpoint of its range along ``x``, for each value of ``y``.

    The midpoint is halfway between the highest and lowest cell means over
    the whole grid; the crossing is found by linear interpolation between
    the two grid values either side (NaN when the row never crosses).
    """
    means = runs.groupby([y, x], sort=True)[out].mean()
    mid = (means.max() + means.min()) / 2
    rows = []
    for yv, sub in means.groupby(level=0, sort=True):
        xs = sub.index.get_level_values(1).to_numpy(dtype=float)
        vs = sub.to_numpy(dtype=float)
        cross = np.nan
        for i in range(len(xs) - 1):
            a, b = vs[i] - mid, vs[i + 1] - mid
            if a == 0:
                cross = xs[i]
                break
            if a * b < 0:
                cross = xs[i] + (xs[i + 1] - xs[i]) * a / (a - b)
                break
        rows.append({y: yv, x: cross, "midpoint": mid})
    return pd.DataFrame(rows)


def plot_tipping(runs: pd.DataFrame, x: str, y: str, out: str, path: Path) -> pd.DataFrame:
    """Heatmap of ``out`` over ``x`` and ``y`` with the tipping line drawn over it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    means = runs.groupby([y, x], sort=True)[out].mean().unstack(x)
    xs = means.columns.to_numpy(dtype=float)
    ys = means.index.to_numpy(dtype=float)
    line = tipping_line(runs, x, y, out)
    fig, ax = plt.subplots(figsize=(6.8, 4.6))
    dx = (xs[1] - xs[0]) / 2
    dy = (ys[1] - ys[0]) / 2
    im = ax.imshow(
        means.to_numpy(),
        origin="lower",
        aspect="auto",
        cmap="viridis",
        extent=(xs[0] - dx, xs[-1] + dx, ys[0] - dy, ys[-1] + dy),
    )
    ok = line[x].notna()
    ax.plot(
        line.loc[ok, x],
        line.loc[ok, y],
        "w-o",
        ms=3,
        lw=1.5,
        label=f"tipping line (midpoint {line['midpoint'].iloc[0]:.2f})",
    )
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.legend(loc="upper left", fontsize=8, framealpha=0.8)
    fig.colorbar(im, ax=ax, label=f"mean {out}")
    ax.set_title(f"{out} over {x} and {y}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return line


def make_docs_figures(
    name: str, runs_dir: Path | str = "runs", docs_dir: Path | str = "docs/experiments"
) -> dict[str, Any]:
    """Regenerate ``docs/experiments/NAME/`` from the finished sweep ``runs/NAME``.

    Returns
    -------
    dict
        Numbers quoted in ``docs/experiments.md`` (windows, tipping points, indices).
    """
    src = Path(runs_dir) / name
    dest = Path(docs_dir) / name
    dest.mkdir(parents=True, exist_ok=True)
    manifest, frame = load_results(src)
    runs = per_run_outputs(manifest, frame)
    facts: dict[str, Any] = {"runs": int(manifest["n_runs"])}
    outputs = DOC_OUTPUTS.get(name)
    if outputs:
        make_report(src, dest, outputs)
    if name == "watts_cascades":
        freq = cascade_frequency(runs)
        plot_cascade_window(freq, dest / "cascade_window.png")
        freq.to_csv(dest / "cascade_frequency.csv", index=False, float_format="%.4g")
        for phi in sorted(freq["threshold_mean"].unique()):
            sub = freq[freq["threshold_mean"] == phi]
            hit = sub[sub["frequency"] >= 0.05]["mean_degree"]
            facts[f"phi={phi:.2f}"] = {
                "analytic": watts_window(phi),
                "simulated": (float(hit.min()), float(hit.max())) if len(hit) else None,
                "peak": float(sub["frequency"].max()),
            }
    if name == "inclusion_tipping":
        line = plot_tipping(
            runs, "outreach", "participation_barrier", "final_engagement_marginalised", dest / "tipping.png"
        )
        line.to_csv(dest / "tipping_line.csv", index=False, float_format="%.4g")
        facts["tipping"] = line.to_dict("records")
    if name == "levers_sobol":
        from civsim.experiments.sensitivity import analyse, write_sensitivity

        metrics = ["final_outcome_index", "final_inclusion_gap", "final_engagement", "final_trust"]
        res = write_sensitivity(analyse(src, metrics), dest, title=name)
        facts["indices"] = res.table.to_dict("records")
    return facts


def main(argv: list[str] | None = None) -> None:
    """Command-line entry: ``python -m civsim.experiments.shipped NAME ...``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+", help="shipped experiment names")
    parser.add_argument(
        "--runs", default="runs", help="directory holding the finished sweeps (default: runs)"
    )
    parser.add_argument(
        "--docs", default="docs/experiments", help="where the figures go (default: docs/experiments)"
    )
    args = parser.parse_args(argv)
    import json

    for name in args.names:
        facts = make_docs_figures(name, args.runs, args.docs)
        print(json.dumps({name: facts}, indent=1, default=str))


if __name__ == "__main__":
    main()
