"""Global sensitivity analysis of a finished sweep (Sobol and Morris, via SALib).

For a ``sobol`` design the first-order (S1) and total-order (ST) Sobol
indices of each output are estimated with Saltelli's and Jansen's
estimators, with bootstrap confidence intervals; for a ``morris`` design the
elementary-effects statistics mu, mu* and sigma, with a bootstrap interval
on mu*. Each output is first averaged over the replicates of each design
point, so the indices describe the mean response; run-to-run noise that
survives the averaging shows up as wider intervals.

Notes
-----
For an output Y = f(X_1, ..., X_D) with independent inputs,

    S1_i = Var(E[Y | X_i]) / Var(Y),     ST_i = E[Var(Y | X_~i)] / Var(Y).

S1 is the share of variance X_i explains alone; ST - S1 is what it adds
through interactions. The confidence columns (``S1_conf``, ``ST_conf``,
``mu_star_conf``) are half-widths of 95% bootstrap intervals.

References
----------
Sobol' (2001), Mathematics and Computers in Simulation 55, 271-280.
Saltelli et al. (2010), Computer Physics Communications 181(2), 259-270.
Morris (1991), Technometrics 33(2), 161-174.
Campolongo, Cariboni and Saltelli (2007), Environmental Modelling & Software 22, 1509-1518.
Herman and Usher (2017), SALib, JOSS 2(9), 97.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from civsim.errors import UserError
from civsim.experiments.results import load_results, outputs_by_point

SENSITIVITY_STREAM = 0x5E45
"""Spawn key of the bootstrap stream: ``SeedSequence(seed, spawn_key=(SENSITIVITY_STREAM,))``."""


def sobol_indices(
    problem: dict[str, Any], y: np.ndarray, *, second_order: bool = False, seed: int = 0, resamples: int = 200
) -> pd.DataFrame:
    """First- and total-order Sobol indices of one output.

    Parameters
    ----------
    problem : dict
        SALib problem (``num_vars``, ``names``, ``bounds``).
    y : numpy.ndarray
        Output at each point of the Saltelli sample, in sample order.
    second_order : bool
        Whether the sample was made for second-order indices.
    seed : int
        Seed of the bootstrap.
    resamples : int
        Bootstrap resamples for the confidence intervals.

    Returns
    -------
    pandas.DataFrame
        One row per factor: ``factor``, ``S1``, ``S1_conf``, ``ST``, ``ST_conf``.
    """
    from SALib.analyze import sobol

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = sobol.analyze(
            problem,
            np.asarray(y, dtype=float),
            calc_second_order=second_order,
            num_resamples=resamples,
            conf_level=0.95,
            print_to_console=False,
            seed=_rng(seed),
        )
    return pd.DataFrame(
        {
            "factor": problem["names"],
            "S1": res["S1"],
            "S1_conf": res["S1_conf"],
            "ST": res["ST"],
            "ST_conf": res["ST_conf"],
        }
    )


def morris_indices(
    problem: dict[str, Any],
    x: np.ndarray,
    y: np.ndarray,
    *,
    levels: int = 4,
    seed: int = 0,
    resamples: int = 200,
) -> pd.DataFrame:
    """Morris elementary-effects statistics of one output.

    Parameters
    ----------
    problem : dict
        SALib problem.
    x : numpy.ndarray
        The Morris sample (n_points, D), in problem units.
    y : numpy.ndarray
        Output at each point.
    levels : int
        Number of grid levels the sample used.
    seed : int
        Seed of the bootstrap.
    resamples : int
        Bootstrap resamples for the interval on mu*.

    Returns
    -------
    pandas.DataFrame
        One row per factor: ``factor``, ``mu``, ``mu_star``, ``mu_star_conf``, ``sigma``.
    """
    from SALib.analyze import morris

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = morris.analyze(
            problem,
            np.asarray(x, dtype=float),
            np.asarray(y, dtype=float),
            num_resamples=resamples,
            conf_level=0.95,
            print_to_console=False,
            num_levels=levels,
            seed=_rng(seed),
        )
    return pd.DataFrame(
        {
            "factor": problem["names"],
            "mu": np.asarray(res["mu"], dtype=float),
            "mu_star": np.asarray(res["mu_star"], dtype=float),
            "mu_star_conf": np.asarray(res["mu_star_conf"], dtype=float),
            "sigma": np.asarray(res["sigma"], dtype=float),
        }
    )


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(SENSITIVITY_STREAM,)))


@dataclass
class SensitivityResult:
    """Indices of every analysed output, and where they were written.

    Attributes
    ----------
    method : str
        ``"sobol"`` or ``"morris"``.
    table : pandas.DataFrame
        One row per (metric, factor).
    skipped : dict
        Outputs not analysed, with the reason.
    csv, png : pathlib.Path or None
        Files written.
    """

    method: str
    table: pd.DataFrame
    skipped: dict[str, str] = field(default_factory=dict)
    csv: Path | None = None
    png: Path | None = None


def analyse(directory: Path | str, metrics: list[str] | None = None) -> SensitivityResult:
    """Sensitivity indices of a finished Sobol or Morris sweep.

    Parameters
    ----------
    directory : path
        A results directory written by :func:`civsim.experiments.runner.run_sweep`.
    metrics : list of str, optional
        Outputs to analyse (default: every per-run output that varies).

    Raises
    ------
    UserError
        If the sweep is unfinished, its design is not ``sobol`` or
        ``morris``, or a requested metric does not exist.
    """
    manifest, frame = load_results(directory)
    design = manifest["design"]
    kind = design["kind"]
    if kind not in ("sobol", "morris"):
        raise UserError(
            f"{directory}: the sweep's design is {kind!r}; "
            "sensitivity indices need [design] kind = 'sobol' or 'morris'"
        )
    problem = design["problem"]
    samples = np.asarray(design["samples"], dtype=float)
    means = outputs_by_point(manifest, frame)
    available = [c for c in means.columns if c != "point"]
    if metrics:
        for m in metrics:
            if m not in available:
                raise UserError(f"--metric {m!r} is not allowed: expected one of {', '.join(available)}")
        chosen = list(metrics)
    else:
        chosen = available
    settings = manifest["identity"]["design"]
    seed = int(manifest["identity"]["seed"])
    rows = []
    skipped: dict[str, str] = {}
    for m in chosen:
        y = means[m].to_numpy(dtype=float)
        if not np.all(np.isfinite(y)):
            skipped[m] = "has missing values (NaN)"
            continue
        if np.ptp(y) <= 1e-12 * max(1.0, float(np.abs(y).max())):
            skipped[m] = "is constant over the design"
            continue
        if kind == "sobol":
            t = sobol_indices(problem, y, second_order=bool(settings.get("second_order")), seed=seed)
        else:
            t = morris_indices(problem, samples, y, levels=int(settings.get("levels", 4)), seed=seed)
        t.insert(0, "metric", m)
        rows.append(t)
    if not rows:
        detail = "; ".join(f"{k} {v}" for k, v in skipped.items())
        raise UserError(f"{directory}: no output varies over the design, nothing to analyse ({detail})")
    return SensitivityResult(kind, pd.concat(rows, ignore_index=True), skipped)


def write_sensitivity(result: SensitivityResult, out: Path | str, title: str = "") -> SensitivityResult:
    """Write ``sensitivity.csv`` and ``sensitivity.png`` into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    result.csv = out / "sensitivity.csv"
    result.table.to_csv(result.csv, index=False, float_format="%.6g")
    result.png = out / "sensitivity.png"
    plot_indices(result, result.png, title=title)
    return result


def plot_indices(result: SensitivityResult, path: Path | str, title: str = "") -> None:
    """Bar charts of the indices, one panel per metric, with 95% intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = result.table
    metrics = list(dict.fromkeys(table["metric"]))
    ncol = 2 if len(metrics) == 4 else min(3, len(metrics))
    nrow = int(np.ceil(len(metrics) / ncol))
    factors = list(dict.fromkeys(table["factor"]))
    height = max(2.2, 0.32 * len(factors) + 1.0)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.6 * ncol, height * nrow), squeeze=False)
    y = np.arange(len(factors))
    for ax, m in zip(axes.ravel(), metrics, strict=False):
        t = table[table["metric"] == m].set_index("factor").reindex(factors)
        if result.method == "sobol":
            ax.barh(
                y - 0.2, t["S1"], 0.4, xerr=t["S1_conf"], label="first order S1", color="#4C72B0", capsize=2
            )
            ax.barh(
                y + 0.2, t["ST"], 0.4, xerr=t["ST_conf"], label="total order ST", color="#DD8452", capsize=2
            )
            ax.set_xlim(
                min(0.0, float(np.nanmin(t["S1"] - t["S1_conf"]))),
                max(1.0, float(np.nanmax(t["ST"] + t["ST_conf"])), float(np.nanmax(t["S1"] + t["S1_conf"])))
                * 1.02,
            )
            ax.axvline(0, color="0.5", lw=0.5)
        else:
            ax.barh(
                y - 0.2, t["mu_star"], 0.4, xerr=t["mu_star_conf"], label="mu*", color="#4C72B0", capsize=2
            )
            ax.barh(y + 0.2, t["sigma"], 0.4, label="sigma", color="#DD8452")
        ax.set_yticks(y, factors, fontsize=8)
        ax.invert_yaxis()
        ax.set_title(m, fontsize=10)
        ax.tick_params(axis="x", labelsize=8)
    for ax in axes.ravel()[len(metrics) :]:
        ax.axis("off")
    handles, labels = axes.ravel()[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper right", fontsize=8, ncol=2)
    what = (
        "Sobol indices (bars: 95% bootstrap intervals)"
        if result.method == "sobol"
        else "Morris mu* and sigma (bars: 95% intervals on mu*)"
    )
    fig.suptitle(f"{title}: {what}" if title else what, fontsize=11, x=0.02, ha="left")
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    fig.savefig(path, dpi=110)
    plt.close(fig)
