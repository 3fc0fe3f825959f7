"""Figures and a short Markdown summary of a finished sweep.

For each output, one figure with a panel per factor: the mean over runs at
each factor value (binned into deciles when the design samples the factor
continuously), with a band holding the middle 90% of the runs there (the
replicates, and the other factors' values when they vary too). In grid and
list designs with two or more factors, a second factor with few values
splits each panel into one line per value, and a heatmap shows the mean
over the first two factors (one panel per value of a third). Series sweeps
also get the mean time course of each metric, split by the first factor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from civsim.errors import UserError
from civsim.experiments.results import factor_names, load_results, output_columns, per_run_outputs

BAND = (5.0, 95.0)
"""Percentiles bounding the interval bands."""
MAX_LEVELS = 12
"""A factor with more distinct values than this is binned."""
BINS = 10
MAX_HUE = 6
RESILIENCE_OUTPUTS = ("min_outcome_index", "shock_dip", "shock_recovery_months")


@dataclass
class ReportResult:
    """Files a report wrote."""

    directory: Path
    figures: list[Path] = field(default_factory=list)
    markdown: Path | None = None


def _varies(s: pd.Series) -> bool:
    v = s.dropna()
    return len(v) > 1 and float(v.max() - v.min()) > 1e-12 * max(1.0, float(v.abs().max()))


def default_outputs(manifest: dict[str, Any], runs: pd.DataFrame) -> list[str]:
    """Outputs a report shows by default: the final value of each recorded
    metric, and the resilience summaries, where they vary."""
    metrics = manifest["identity"]["output"]["metrics"]
    chosen = [f"final_{m}" for m in metrics if f"final_{m}" in runs.columns]
    chosen += [c for c in RESILIENCE_OUTPUTS if c in runs.columns]
    varying = [c for c in chosen if _varies(runs[c])]
    return varying or chosen


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def effect_table(manifest: dict[str, Any], runs: pd.DataFrame, outputs: list[str]) -> pd.DataFrame:
    """Main effects: for each output and factor, the mean output at the
    factor's lowest and highest value (or decile) and the spread of the
    means across its values."""
    rows = []
    for out in outputs:
        for f in factor_names(manifest):
            g = _grouped(runs, f, out)
            if g.empty:
                continue
            rows.append(
                {
                    "output": out,
                    "factor": f,
                    "at_low": g["mean"].iloc[0],
                    "at_high": g["mean"].iloc[-1],
                    "spread": float(g["mean"].max() - g["mean"].min()),
                }
            )
    return pd.DataFrame(rows, columns=["output", "factor", "at_low", "at_high", "spread"])


def _levels(x: pd.Series) -> tuple[pd.Series, bool]:
    """Group keys for a factor: its values, or decile bins when continuous."""
    if x.nunique() <= MAX_LEVELS or not pd.api.types.is_numeric_dtype(x) or pd.api.types.is_bool_dtype(x):
        return x, False
    bins = pd.qcut(x.astype(float), BINS, duplicates="drop")
    centers = x.groupby(bins, observed=True).transform("mean")
    return centers, True


def _grouped(runs: pd.DataFrame, factor: str, out: str, by: pd.Series | None = None) -> pd.DataFrame:
    key, _ = _levels(runs[factor])
    keys = [key.rename("x")] if by is None else [key.rename("x"), by.rename("hue")]
    y = runs[out]
    g = y.groupby(keys, observed=True, sort=True)
    res = pd.DataFrame(
        {
            "mean": g.mean(),
            "lo": g.quantile(BAND[0] / 100),
            "hi": g.quantile(BAND[1] / 100),
            "n": g.size(),
        }
    ).reset_index()
    return res.dropna(subset=["mean"])


def _hue_factor(manifest: dict[str, Any], runs: pd.DataFrame, factor: str) -> str | None:
    if manifest["design"]["kind"] not in ("grid", "list"):
        return None
    for f in factor_names(manifest):
        if f != factor and 1 < runs[f].nunique() <= MAX_HUE:
            return f
    return None


def _fmt(v: Any) -> str:
    if isinstance(v, (float, np.floating)):
        return f"{v:.4g}"
    return str(v)


def plot_output(manifest: dict[str, Any], runs: pd.DataFrame, out: str, path: Path) -> None:
    """One figure: ``out`` against each factor, with bands across runs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    factors = factor_names(manifest) or []
    n = max(1, len(factors))
    ncol = min(3, n)
    nrow = int(np.ceil(n / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.4 * ncol, 3.3 * nrow), squeeze=False)
    band_note = f"band: {BAND[0]:g}-{BAND[1]:g}% of runs"
    for ax, f in zip(axes.ravel(), factors, strict=False):
        hue = _hue_factor(manifest, runs, f)
        x_num = pd.api.types.is_numeric_dtype(runs[f]) and not pd.api.types.is_bool_dtype(runs[f])
        if hue is None:
            g = _grouped(runs, f, out)
            xs = g["x"] if x_num else np.arange(len(g))
            ax.fill_between(xs, g["lo"], g["hi"], alpha=0.25, color="#4C72B0", lw=0)
            ax.plot(xs, g["mean"], "o-", color="#4C72B0", ms=3, lw=1.5)
            if not x_num:
                ax.set_xticks(xs, [str(v) for v in g["x"]])
        else:
            g = _grouped(runs, f, out, by=runs[hue])
            levels = list(dict.fromkeys(sorted(g["x"]))) if not x_num else None
            cmap = plt.get_cmap("viridis", max(2, g["hue"].nunique()))
            for i, (h, gh) in enumerate(g.groupby("hue", sort=True)):
                xs = gh["x"] if x_num else [levels.index(v) for v in gh["x"]]  # type: ignore[union-attr]
                c = cmap(i)
                ax.fill_between(xs, gh["lo"], gh["hi"], alpha=0.15, color=c, lw=0)
                ax.plot(xs, gh["mean"], "o-", color=c, ms=3, lw=1.5, label=f"{hue} = {_fmt(h)}")
            if not x_num and levels:
                ax.set_xticks(range(len(levels)), [str(v) for v in levels])
            ax.legend(fontsize=7, frameon=False)
        ax.set_xlabel(f, fontsize=9)
        ax.set_ylabel(out, fontsize=9)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    if not factors:
        ax = axes.ravel()[0]
        ax.hist(runs[out].dropna(), bins=20, color="#4C72B0")
        ax.set_xlabel(out)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    name = manifest["experiment"]["name"]
    fig.suptitle(f"{name}: {out}  (line: mean; {band_note})", fontsize=10, x=0.02, ha="left")
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def grid_factors(manifest: dict[str, Any], runs: pd.DataFrame) -> list[str]:
    """Factors of a grid design that take more than one value, in file order."""
    if manifest["design"]["kind"] != "grid":
        return []
    return [f for f in factor_names(manifest) if runs[f].nunique() > 1]


def plot_heatmap(manifest: dict[str, Any], runs: pd.DataFrame, out: str, path: Path) -> bool:
    """Mean of ``out`` over the first two grid factors, one panel per value of a third.

    Returns False (and draws nothing) unless the design is a grid with at
    least two varying factors. Cells average the replicates and any further
    factors.
    """
    factors = grid_factors(manifest, runs)
    if len(factors) < 2:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fx, fy = factors[0], factors[1]
    facet = factors[2] if len(factors) > 2 and runs[factors[2]].nunique() <= MAX_HUE else None
    levels = sorted(runs[facet].unique()) if facet else [None]
    table = runs.groupby([c for c in (facet, fx, fy) if c], sort=True)[out].mean()
    lo, hi = float(table.min()), float(table.max())
    ncol = len(levels)
    fig, axes = plt.subplots(1, ncol, figsize=(3.9 * ncol + 0.9, 3.6), squeeze=False)
    xs = sorted(runs[fx].unique())
    ys = sorted(runs[fy].unique())
    im = None
    for k, (ax, lev) in enumerate(zip(axes.ravel(), levels, strict=True)):
        sub = table.loc[lev] if facet else table
        grid = sub.unstack(fy).reindex(index=xs, columns=ys).to_numpy().T
        im = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis", vmin=lo, vmax=hi)
        ax.set_xticks(range(len(xs)), [_fmt(v) for v in xs], fontsize=7, rotation=45)
        ax.set_yticks(range(len(ys)), [_fmt(v) for v in ys], fontsize=7)
        ax.set_xlabel(fx, fontsize=9)
        if k == 0:
            ax.set_ylabel(fy, fontsize=9)
        if facet:
            ax.set_title(f"{facet} = {_fmt(lev)}", fontsize=9)
        if len(xs) * len(ys) <= 80:
            for i in range(len(ys)):
                for j in range(len(xs)):
                    v = grid[i, j]
                    if np.isfinite(v):
                        light = (v - lo) / (hi - lo) < 0.5 if hi > lo else True
                        ax.text(
                            j,
                            i,
                            f"{v:.3g}",
                            ha="center",
                            va="center",
                            fontsize=6,
                            color="white" if light else "black",
                        )
    fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.9, label=out)
    fig.suptitle(f"{manifest['experiment']['name']}: mean {out}", fontsize=10, x=0.02, ha="left")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return True


def plot_series(manifest: dict[str, Any], frame: pd.DataFrame, metric: str, path: Path) -> None:
    """Mean time course of ``metric``, one line per value of the first factor."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    factors = factor_names(manifest)
    split = factors[0] if factors and 1 < frame[factors[0]].nunique() <= 8 else None
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    groups = frame.groupby(split, sort=True) if split else [(None, frame)]
    cmap = plt.get_cmap("viridis", max(2, len(groups) if split else 2))
    for i, (level, sub) in enumerate(groups):
        g = sub.groupby("step")[metric]
        m, lo, hi = g.mean(), g.quantile(BAND[0] / 100), g.quantile(BAND[1] / 100)
        c = cmap(i)
        label = f"{split} = {_fmt(level[0] if isinstance(level, tuple) else level)}" if split else "all runs"
        ax.fill_between(m.index, lo, hi, alpha=0.15, color=c, lw=0)
        ax.plot(m.index, m.to_numpy(), color=c, lw=1.5, label=label)
    ax.set_xlabel("step (month)")
    ax.set_ylabel(metric)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, frameon=False)
    ax.set_title(
        f"{manifest['experiment']['name']}: {metric} over time (band: {BAND[0]:g}-{BAND[1]:g}% of runs)",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def make_report(
    directory: Path | str, out: Path | str | None = None, outputs: list[str] | None = None
) -> ReportResult:
    """Write figures and ``summary.md`` for a finished sweep.

    Parameters
    ----------
    directory : path
        Results directory of :func:`civsim.experiments.runner.run_sweep`.
    out : path, optional
        Where to write (default ``DIR/_report``; Parquet readers skip it).
    outputs : list of str, optional
        Per-run outputs to plot (default: :func:`default_outputs`).

    Raises
    ------
    UserError
        Unfinished sweep, or an unknown output name.
    """
    directory = Path(directory)
    manifest, frame = load_results(directory)
    runs = per_run_outputs(manifest, frame)
    available = output_columns(manifest, runs)
    if outputs:
        for o in outputs:
            if o not in available:
                raise UserError(f"--metric {o!r} is not allowed: expected one of {', '.join(available)}")
    chosen = list(outputs) if outputs else default_outputs(manifest, runs)
    target = Path(out) if out is not None else directory / "_report"
    target.mkdir(parents=True, exist_ok=True)
    result = ReportResult(target)
    for o in chosen:
        path = target / f"{_slug(o)}.png"
        plot_output(manifest, runs, o, path)
        result.figures.append(path)
        heat = target / f"heatmap_{_slug(o)}.png"
        if plot_heatmap(manifest, runs, o, heat):
            result.figures.append(heat)
    if "step" in frame.columns:
        for m in manifest["identity"]["output"]["metrics"]:
            path = target / f"series_{_slug(m)}.png"
            plot_series(manifest, frame, m, path)
            result.figures.append(path)
    result.markdown = target / "summary.md"
    result.markdown.write_text(summary_markdown(manifest, runs, chosen, result, directory), encoding="utf-8")
    return result


def summary_markdown(
    manifest: dict[str, Any], runs: pd.DataFrame, outputs: list[str], result: ReportResult, directory: Path
) -> str:
    """The Markdown summary: what ran, the main effects, the figures."""
    exp = manifest["experiment"]
    ident = manifest["identity"]
    n_points = manifest["design"]["n_points"]
    lines = [f"# Sweep report: {exp['name']}", ""]
    if exp.get("description"):
        lines += [exp["description"].strip(), ""]
    lines += [
        f"- experiment file: `{exp['path']}`; base scenario: {exp.get('scenario') or 'defaults'}",
        f"- design: {ident['design']['kind']}, {n_points} points x {ident['replicates']} replicates = "
        f"{manifest['n_runs']} runs of {ident['steps']} steps; seed {ident['seed']}",
        f"- output: {ident['output']['keep']} of {', '.join(ident['output']['metrics'])}",
        f"- read the data: `pd.read_parquet({str(directory)!r})`",
        "",
        "## Factors",
        "",
    ]
    for f in ident["factors"]:
        vals = f.get("values") or f"range {f['range'][0]:g} to {f['range'][1]:g}" + (
            f", {f['num']} values" if "num" in f else ""
        )
        lines.append(f"- `{f['name']}`: {vals}")
    table = effect_table(manifest, runs, outputs)
    if not table.empty:
        lines += [
            "",
            "## Main effects",
            "",
            "Mean over runs at the lowest and highest value of each factor (deciles for sampled "
            "factors), and the spread of those means across the factor's values. "
            "Strongest factor first.",
            "",
            "| output | factor | at lowest | at highest | spread |",
            "|---|---|---:|---:|---:|",
        ]
        for o in outputs:
            t = table[table["output"] == o].sort_values("spread", ascending=False)
            for _, r in t.iterrows():
                lines.append(
                    f"| {o} | {r['factor']} | {r['at_low']:.4g} | {r['at_high']:.4g} | {r['spread']:.4g} |"
                )
    lines += ["", "## Figures", ""]
    for p in result.figures:
        lines.append(f"![{p.stem}]({p.name})")
    lines.append("")
    return "\n".join(lines)
