"""The calibration report: ``report.md`` and its figures.

Figures (PNG, beside the report): the non-implausible share of the prior per
wave; emulator validation on held-out runs; posterior marginals and pairs;
the posterior-predictive check (model bands against the data points with
their error bars, fitted, held-out and shown-only points marked apart).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from civsim.calibration.abc import weighted_quantile
from civsim.calibration.evidence import DEFAULT_START, parse_month
from civsim.calibration.pipeline import CalibrationResult

MARKERS = {
    "fit": ("o", "C3", "fitted"),
    "predict": ("s", "C2", "held out (prediction)"),
    "show": ("D", "0.5", "shown only"),
}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def figure_nroy(result: CalibrationResult, path: Path) -> None:
    """Non-implausible share of the prior box after each wave (log scale)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    x = [0] + [w.index for w in result.waves]
    y = [1.0] + [max(w.nroy_fraction, 1e-5) for w in result.waves]
    ax.plot(x, y, "o-", color="C0")
    ax.set_yscale("log")
    ax.set_xticks(x)
    ax.set_xlabel("wave (0 = prior)")
    ax.set_ylabel("non-implausible share of prior")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def figure_emulators(result: CalibrationResult, path: Path) -> None:
    """Held-out runs: emulator mean +- 2 sd against the simulated mean, per target and wave."""
    plt = _plt()
    fit = result.spec.fit_targets
    fig, axes = plt.subplots(1, len(fit), figsize=(3.3 * len(fit), 3.2), squeeze=False)
    for j, (ax, t) in enumerate(zip(axes[0], fit, strict=True)):
        for w in result.waves:
            v = w.validations[j]
            if v is None:
                continue
            ax.errorbar(
                v.simulated, v.predicted, yerr=2 * v.sd, fmt="o", ms=3, alpha=0.7, label=f"wave {w.index}"
            )
        lims = ax.get_xlim()
        ax.plot(lims, lims, "k--", lw=0.8)
        ax.set_title(t.name, fontsize=8)
        ax.set_xlabel("simulated (mean of replicates)")
        if j == 0:
            ax.set_ylabel("emulator (±2 sd)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def figure_marginals(result: CalibrationResult, path: Path) -> None:
    """Weighted posterior histograms over each prior range."""
    plt = _plt()
    g = result.abc.final
    pri = result.spec.priors
    fig, axes = plt.subplots(1, len(pri), figsize=(3.2 * len(pri), 2.8), squeeze=False)
    for i, (ax, p) in enumerate(zip(axes[0], pri, strict=True)):
        ax.hist(g.theta[:, i], bins=25, range=(p.low, p.high), weights=g.weights, color="C0", alpha=0.8)
        ax.axhline(1 / 25, color="0.4", ls="--", lw=0.8, label="prior")
        ax.set_xlim(p.low, p.high)
        ax.set_title(p.name, fontsize=9)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def figure_pairs(result: CalibrationResult, path: Path) -> None:
    """Pairwise scatter of the posterior (point size by weight)."""
    plt = _plt()
    g = result.abc.final
    pri = result.spec.priors
    k = len(pri)
    fig, axes = plt.subplots(k, k, figsize=(2.3 * k, 2.3 * k), squeeze=False)
    size = 4 + 60 * g.weights / g.weights.max()
    for i in range(k):
        for j in range(k):
            ax = axes[i][j]
            if i == j:
                ax.hist(
                    g.theta[:, i], bins=20, range=(pri[i].low, pri[i].high), weights=g.weights, color="C0"
                )
            elif i > j:
                ax.scatter(g.theta[:, j], g.theta[:, i], s=size, alpha=0.4, color="C0")
                ax.set_xlim(pri[j].low, pri[j].high)
                ax.set_ylim(pri[i].low, pri[i].high)
            else:
                ax.axis("off")
            if i == k - 1:
                ax.set_xlabel(pri[j].name, fontsize=7)
            if j == 0 and i > 0:
                ax.set_ylabel(pri[i].name, fontsize=7)
            ax.tick_params(labelsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def figure_ppc(result: CalibrationResult, path: Path) -> None:
    """Posterior-predictive bands of each target metric over time with the data and their errors."""
    plt = _plt()
    spec, g = result.spec, result.abc.final
    metrics = result.metrics
    fig, axes = plt.subplots(1, len(metrics), figsize=(5.5 * len(metrics), 3.6), squeeze=False)
    y0, m0 = parse_month(spec.start or DEFAULT_START)
    months = np.arange(g.series.shape[2])
    years = y0 + (m0 - 1 + months) / 12
    for ax, m in zip(axes[0], metrics, strict=True):
        s = g.series[:, metrics.index(m), :]
        rel = [t for t in spec.targets if t.metric == m and t.relative_to is not None]
        if rel:
            s = s / s[:, [rel[0].relative_to]]
        q = np.array(
            [
                [weighted_quantile(s[:, k], g.weights, q) for q in (0.05, 0.25, 0.5, 0.75, 0.95)]
                for k in months
            ]
        )
        ax.fill_between(years, q[:, 0], q[:, 4], color="C0", alpha=0.2, label="posterior predictive 90%")
        ax.fill_between(years, q[:, 1], q[:, 3], color="C0", alpha=0.35, label="50%")
        ax.plot(years, q[:, 2], color="C0", lw=1.2)
        for role, (mk, col, label) in MARKERS.items():
            ts = [t for t in spec.targets if t.metric == m and t.role == role]
            if not ts:
                continue
            x = [y0 + (m0 - 1 + t.step) / 12 for t in ts]
            err = [2 * np.sqrt(t.sd**2 + spec.discrepancy_of(t) ** 2) for t in ts]
            ax.errorbar(
                x,
                [t.value for t in ts],
                yerr=err,
                fmt=mk,
                color=col,
                ecolor=col,
                capsize=3,
                mfc=col if role != "show" else "white",
                label=f"data, {label} (±2 sd)",
            )
        ax.set_title(m + (f" (relative to month {rel[0].relative_to})" if rel else ""), fontsize=9)
        ax.set_xlabel(f"year (month 0 = {spec.start})")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _fmt(x: Any, nd: int = 3) -> str:
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "-"
    return f"{x:.{nd}g}" if isinstance(x, float) else str(x)


def write_report(result: CalibrationResult, summary: dict[str, Any], to: Path | None = None) -> Path:
    """Write ``report.md`` and its figures into ``to`` (default: the results directory)."""
    to = Path(to or result.out)
    docs = to != result.out
    figdir = to / "calibration" if docs else to
    figdir.mkdir(parents=True, exist_ok=True)
    rel = "calibration/" if docs else ""
    figure_nroy(result, figdir / "nroy.png")
    figure_emulators(result, figdir / "emulators.png")
    has_post = bool(result.abc.generations)
    if has_post:
        figure_marginals(result, figdir / "marginals.png")
        figure_pairs(result, figdir / "pairs.png")
        figure_ppc(result, figdir / "ppc.png")
    md = render(result, summary, rel, has_post)
    if docs:
        from civsim.calibration.docs import docs_page

        md = docs_page(result, summary, md)
    path = to / ("calibration.md" if docs else "report.md")
    path.write_text(md, encoding="utf-8")
    return path


def identification(result: CalibrationResult, s: dict[str, Any]) -> str:
    """Plain words on what the posterior pins down and where the fit is weakest."""
    post = s["posterior"]
    strong = [n for n, p in post.items() if p["shrinkage"] >= 0.5]
    weak = [n for n, p in post.items() if p["shrinkage"] < 0.25]
    fit = {k: v for k, v in s["predictive"].items() if v["role"] == "fit"}
    worst = max(fit, key=lambda k: abs(fit[k]["z"]))
    parts = [
        "Narrowed to under half the prior width: "
        + (", ".join(f"`{n}`" for n in strong) if strong else "none")
        + ". Barely narrowed (under a quarter), so not identified by these data: "
        + (", ".join(f"`{n}`" for n in weak) if weak else "none")
        + f". The worst-fitted target is {worst} (z = {fit[worst]['z']:+.2f})."
    ]
    from civsim.params import SCHEMA

    burn_in = int(result.spec.base.get("burn_in", SCHEMA["burn_in"].default) or 0)
    if "initial_engagement" in weak and burn_in > 0:
        parts.append(
            f"`initial_engagement` sets engagement only at the start of the {burn_in}-month burn-in, "
            "which all but erases it before month 0, so these data cannot identify it (as expected)."
        )
    if "initial_engagement" in post and burn_in == 0:
        med = post["initial_engagement"]["median"]
        first = min(
            (t for t in result.spec.fit_targets if t.metric == "engagement"),
            key=lambda t: t.step,
            default=None,
        )
        if first is not None and med > first.value + 0.02:
            parts.append(
                f"The posterior starts engagement at {med:.2f} in month 0, above the first observation "
                f"({first.value:g}): much of the fitted decline is the model relaxing from its start "
                "towards its own equilibrium, not a response to austerity. Data from before the first "
                "target (not shipped) would test that start."
            )
    return " ".join(parts)


def render(result: CalibrationResult, s: dict[str, Any], rel: str, has_post: bool) -> str:
    """The report text (Markdown)."""
    spec = result.spec
    L = [f"# Calibration: {spec.name}", ""]
    if spec.description:
        L += [spec.description, ""]
    L += [
        f"Scenario `{spec.scenario}`, {spec.steps} months (month 0 = {spec.start}), "
        f"{spec.citizens} citizens, "
        f"seed {spec.seed}, engine `{spec.engine}`. {s['runs_total']} model runs in all "
        f"({s['seconds']:.0f} s for the last session). File: `{spec.path}`.",
        "",
        "## Verdict",
        "",
    ]
    if has_post and s["reproduces_data"]:
        L.append(
            "Every fitted data point lies inside the 90% posterior-predictive interval of an observation."
        )
    else:
        c = s["closest_fit"]
        L.append(
            "**The model does not reproduce the data.** "
            + (
                "Some fitted data points lie outside the 90% posterior-predictive interval (table below). "
                if has_post
                else "No posterior could be formed. "
            )
            + f"Closest simulated point (wave {c.get('wave')}): "
            + ", ".join(f"{k} = {v:.4g}" for k, v in c.get("params", {}).items())
            + f"; its worst target is **{c.get('failing_target')}** "
            + f"at {c.get('max_error', float('nan')):.2f} sd "
            + "(errors: "
            + ", ".join(f"{k} {v:.2f}" for k, v in c.get("errors", {}).items())
            + ")."
        )
    L += [
        "",
        "## Targets",
        "",
        "| target | role | observed | obs. sd | discrepancy | source / note |",
        "|---|---|---|---|---|---|",
    ]
    for t in spec.targets:
        L.append(
            f"| {t.name} | {t.role} | {t.value:g} | {t.sd:.4f} | {spec.discrepancy_of(t):g} "
            f"| {t.source or ''} {t.note} |"
        )
    L += [
        "",
        "## History matching",
        "",
        f"Implausibility cutoff {spec.hm['cutoff']:g}; "
        f"{spec.hm['points']} points x {spec.replicates} replicates a wave.",
        "",
        "| wave | points | runs | non-implausible share of prior | emulators: held-out within 3 sd (RMSE) |",
        "|---|---|---|---|---|",
    ]
    for w in s["waves"]:
        em = "; ".join(
            "-" if e is None else f"{e['target']}: {e['within_3sd']:.0%} ({e['rmse']:.2g})"
            for e in w["emulators"]
        )
        L.append(f"| {w['wave']} | {w['points']} | {w['runs']} | {w['nroy_fraction']:.3g} | {em} |")
    L += [
        "",
        f"![non-implausible share]({rel}nroy.png)",
        "",
        f"![emulator validation]({rel}emulators.png)",
        "",
    ]
    L += [
        "## ABC-SMC",
        "",
        f"Stopped: {s['abc']['stopped']}.",
        "",
        "| generation | epsilon | runs | acceptance |",
        "|---|---|---|---|",
    ]
    for g in s["abc"]["generations"]:
        L.append(f"| {g['generation']} | {g['epsilon']:.3g} | {g['runs']} | {g['acceptance']:.2f} |")
    r = s.get("rejection_abc") or {}
    if r:
        L += [
            "",
            "Plain rejection ABC from the prior, for the same population "
            f"({r['population']}) at the same tolerance (epsilon {r['epsilon']:.3g}), would need "
            + (f"about **{r['runs_needed']:,} runs**" if r["runs_needed"] else "an unknown number of runs")
            + f" (non-implausible share {r['nroy_fraction']:.3g} x share of ABC generation 0 within the "
            f"tolerance {r['generation0_within']:.2f}); "
            f"counting wave 1's {r['prior_runs']} prior runs directly, "
            f"{r['prior_runs_within']} were within it, so "
            + ("at least " if r["direct_is_lower_bound"] else "about ")
            + f"{r['runs_needed_direct']:,} runs. This calibration used {s['runs_total']:,}.",
        ]
    if has_post:
        L += [
            "",
            "## Posterior",
            "",
            "| parameter | prior | median | 90% interval | shrinkage of 90% width |",
            "|---|---|---|---|---|",
        ]
        for name, p in s["posterior"].items():
            L.append(
                f"| {name} | [{p['prior'][0]:g}, {p['prior'][1]:g}] | {p['median']:.4g} "
                f"| [{p['p5']:.4g}, {p['p95']:.4g}] | {p['shrinkage']:.0%} |"
            )
        L += [
            "",
            f"![marginals]({rel}marginals.png)",
            "",
            f"![pairs]({rel}pairs.png)",
            "",
            "## Posterior-predictive check",
            "",
            "Model: weighted 5-95% of the accepted runs' value. "
            "Observation: the same plus observation error and "
            "discrepancy (the interval a new survey would fall in if the model were right).",
            "",
            "| target | role | observed | model median | model 90% | observation 90% | inside | z |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for name, v in s["predictive"].items():
            L.append(
                f"| {name} | {v['role']} | {v['observed']:g} | {v['model_median']:.4f} "
                f"| [{v['model_p5']:.4f}, {v['model_p95']:.4f}] | "
                f"[{v['obs_p5']:.4f}, {v['obs_p95']:.4f}] | {'yes' if v['covered'] else '**no**'} "
                f"| {v['z']:+.2f} |"
            )
        L += [
            "",
            "z: (observed - model median) / sqrt(obs. sd^2 + discrepancy^2).",
            "",
            f"![posterior predictive]({rel}ppc.png)",
            "",
            "### What the data identify",
            "",
            identification(result, s),
            "",
        ]
    return "\n".join(L) + "\n"
