"""One lever at a time: does each lever move the outcomes more than replicate noise?

Every lever of a lever file (:mod:`.levers_spec`) takes each of its values
while all else stays at the baseline. Every point runs the baseline's seed
blocks (:mod:`.paired`), so the effect of a value is the paired difference
from the baseline, averaged per block and pooled with a t interval over
blocks (:mod:`.effects`).

A lever is flagged **within noise** for an outcome when, at every value, its
effect is smaller than the replicate noise: the pooled within-block standard
deviation of that outcome over the baseline's runs (what one run of the model
scatters by chance). Such a lever needs a real pathway or no place in the
schema (issue 9, item 6).

:func:`write_levers` writes ``levers.csv`` (lever x value x outcome),
``runs.csv``, ``manifest.json``, ``levers.md`` and one small-multiples figure
per outcome (one panel per lever: effect and interval over the lever's range,
the noise band shaded grey, the baseline value dashed).
"""

from __future__ import annotations

import math
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from civsim.experiments.effects import BlockEffect, paired_block_effect, within_block_sd
from civsim.experiments.levers_spec import Lever, LeverExperiment, load_levers
from civsim.experiments.paired import (
    SEED_RULE,
    EngineFn,
    ProgressFn,
    RunStats,
    VariantResult,
    run_variants,
    variant_key,
    write_json,
)
from civsim.experiments.paired_report import command_line, engine_name, regenerate_lines, run_manifest
from civsim.experiments.paired_spec import fmt_value

__all__ = ["LeverResult", "load_levers", "run_levers", "write_levers"]


@dataclass
class LeverResult:
    """Effects of every lever value on every outcome, against the baseline."""

    experiment: LeverExperiment
    baseline_key: str
    effects: dict[tuple[str, int, str], BlockEffect]
    noise: dict[str, float]
    variants: dict[str, VariantResult]
    stats: RunStats
    engine: str

    def lever_summary(self, lever: Lever, outcome: str) -> dict[str, Any]:
        """Largest |effect| over the lever's values, the noise, and whether any interval excludes 0."""
        effs = [self.effects[lever.name, i, outcome] for i in range(len(lever.values))]
        sizes = [abs(e.effect) for e in effs if math.isfinite(e.effect)]
        biggest = max(sizes) if sizes else math.nan
        noise = self.noise[outcome]
        return {
            "max_abs_effect": biggest,
            "replicate_sd": noise,
            "ratio": biggest / noise if noise > 0 else math.nan,
            "any_ci_excludes_zero": any(e.excludes_zero for e in effs),
            "within_noise": bool(math.isfinite(biggest) and biggest < noise),
        }

    def noise_levers(self) -> dict[str, list[str]]:
        """Per outcome, the levers whose effect is within replicate noise at every value."""
        return {
            o: [lv.name for lv in self.experiment.levers if self.lever_summary(lv, o)["within_noise"]]
            for o in self.experiment.outcomes
        }

    def noise_everywhere(self) -> list[str]:
        """The levers within replicate noise for every outcome at every value."""
        flagged = self.noise_levers()
        return [lv.name for lv in self.experiment.levers if all(lv.name in f for f in flagged.values())]


def run_levers(
    exp: LeverExperiment,
    *,
    workers: int | None = 1,
    backend: str = "auto",
    scheduler: str | None = None,
    engine: str | EngineFn = "batch",
    progress: ProgressFn | None = None,
) -> LeverResult:
    """Run the baseline and every lever value over the same seed blocks; compute the effects."""
    measures = tuple(exp.outcomes.values())
    variants = {variant_key(exp.resolved): (exp.resolved, measures)}
    for lever in exp.levers:
        for point in lever.points:
            variants.setdefault(variant_key(point), (point, measures))
    results, stats = run_variants(
        variants,
        seed=exp.seed,
        blocks=exp.blocks,
        reps=exp.replicates,
        steps=exp.steps,
        engine=engine,
        workers=workers,
        backend=backend,
        scheduler=scheduler,
        progress=progress,
    )
    base_key = variant_key(exp.resolved)
    base = results[base_key]
    effects = {}
    for lever in exp.levers:
        for i, point in enumerate(lever.points):
            v = results[variant_key(point)]
            for name, m in exp.outcomes.items():
                effects[lever.name, i, name] = paired_block_effect(base.of(m), v.of(m), 0, exp.level)
    noise = {name: within_block_sd(base.of(m)) for name, m in exp.outcomes.items()}
    return LeverResult(exp, base_key, effects, noise, results, stats, engine_name(engine))


def table(result: LeverResult) -> pd.DataFrame:
    """One row per lever, value and outcome."""
    rows = []
    for lever in result.experiment.levers:
        for o in result.experiment.outcomes:
            summary = result.lever_summary(lever, o)
            for i, v in enumerate(lever.values):
                e = result.effects[lever.name, i, o]
                rows.append(
                    {
                        "lever": lever.name,
                        "strand": lever.strand,
                        "value": v,
                        "baseline_value": lever.baseline,
                        "outcome": o,
                        **e.as_dict(),
                        "lever_max_abs_effect": summary["max_abs_effect"],
                        "lever_within_noise": summary["within_noise"],
                    }
                )
    return pd.DataFrame.from_records(rows)


def markdown(result: LeverResult, figures: dict[str, str], command: str = "") -> str:
    """The lever report: per outcome, a table of levers with effects, noise and the flag."""
    exp, s = result.experiment, result.stats
    lvl = f"{exp.level:.0%}"
    where = f"scenario `{exp.scenario}`" if exp.scenario else "the defaults"
    lines = [
        f"# Lever effects, one at a time: {exp.name}",
        "",
        "<!-- generated by civsim levers; do not edit by hand -->",
        "",
        exp.description,
        "",
        f"Every lever takes each listed value while all other parameters stay at the baseline "
        f"({where}; n_citizens = {exp.resolved['n_citizens']:,}, {exp.steps} months). "
        f"Each point runs the baseline's **{exp.blocks} seed blocks x {exp.replicates} replicates** "
        f"(`{SEED_RULE}`, seed {exp.seed}), so an effect is a paired difference from the baseline; "
        f"the interval is a {lvl} t interval over blocks. **Replicate noise** is the pooled "
        "within-block standard deviation of the outcome over the baseline's runs; a lever is flagged "
        "**within noise** when its effect is smaller than that at every value.",
        "",
    ]
    lines += regenerate_lines(command, s)
    everywhere = result.noise_everywhere()
    lines += [
        f"**Within noise for every outcome ({len(exp.outcomes)}) at every value:** "
        f"{', '.join(f'`{n}`' for n in everywhere) or 'none'}.",
        "",
    ]
    for o, m in exp.outcomes.items():
        flagged = result.noise_levers()[o]
        lines += [
            f"## {o} ({m.label()})",
            "",
            f"Replicate noise (sd of one run): {result.noise[o]:.4f}. "
            f"Within noise at every value: {', '.join(f'`{n}`' for n in flagged) or 'none'}.",
            "",
        ]
        if o in figures:
            lines += [f"![{o}]({figures[o]})", ""]
        lines += [
            f"| lever | strand | baseline | effect at each value [{lvl} CI] | max \\|effect\\| | "
            "max / noise | an interval excludes 0 | flag |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for lever in exp.levers:
            summ = result.lever_summary(lever, o)
            cells = []
            for i, v in enumerate(lever.values):
                e = result.effects[lever.name, i, o]
                mark = " (baseline)" if v == lever.baseline else ""
                cells.append(f"{fmt_value(v)}{mark}: {e.effect:+.4f} [{e.low:+.4f}, {e.high:+.4f}]")
            lines.append(
                f"| `{lever.name}` | {lever.strand} | {fmt_value(lever.baseline)} | {'<br>'.join(cells)} | "
                f"{summ['max_abs_effect']:.4f} | {summ['ratio']:.1f} | "
                f"{'yes' if summ['any_ci_excludes_zero'] else 'no'} | "
                f"{'**within noise**' if summ['within_noise'] else ''} |"
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def plot(result: LeverResult, outcome: str, path: Path) -> Path:
    """Small multiples for one outcome: one panel per lever, effect with shaded interval."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    exp = result.experiment
    n = len(exp.levers)
    cols = min(5, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.8 * cols, 2.3 * rows), squeeze=False)
    noise = result.noise[outcome]
    for ax, lever in zip(axes.ravel(), exp.levers, strict=False):
        x = np.array(
            [float(v) if not isinstance(v, str) else i for i, v in enumerate(lever.values)], dtype=float
        )
        effs = [result.effects[lever.name, i, outcome] for i in range(len(lever.values))]
        mean = np.array([e.effect for e in effs])
        lo = np.array([e.low for e in effs])
        hi = np.array([e.high for e in effs])
        ax.axhspan(-noise, noise, color="0.88", lw=0, label="±1 replicate sd")
        ax.axhline(0, color="0.5", lw=0.6)
        ax.fill_between(x, lo, hi, color="C0", alpha=0.3, lw=0, label=f"{exp.level:.0%} interval")
        ax.plot(x, mean, "o-", color="C0", ms=3, lw=1.2, label="effect")
        if not isinstance(lever.baseline, str):
            ax.axvline(float(lever.baseline), color="C3", ls="--", lw=0.8, label="baseline")
        flagged = result.lever_summary(lever, outcome)["within_noise"]
        ax.set_title(
            lever.name + (" (noise)" if flagged else ""), fontsize=9, color="0.45" if flagged else "k"
        )
        ends = np.abs(np.r_[lo, hi])
        ends = ends[np.isfinite(ends)]
        span = max(float(ends.max()) if ends.size else 0.0, 2 * noise if math.isfinite(noise) else 0.0)
        if span > 0:
            ax.set_ylim(-1.1 * span, 1.1 * span)
        ax.xaxis.set_major_locator(MaxNLocator(4))
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    handles, labels = axes.ravel()[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=8, frameon=False)
    fig.suptitle(
        f"{exp.name}: effect on {outcome} vs the baseline value "
        f"({exp.blocks} blocks x {exp.replicates} paired replicates)",
        fontsize=11,
    )
    fig.tight_layout(rect=(0, 0.04, 1, 0.97))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def manifest(result: LeverResult, command: str = "") -> dict[str, Any]:
    """What was run: the file, settings, seed rule, every point's resolved parameters, versions."""
    exp = result.experiment
    specific = {
        "outcomes": {k: m.as_dict() for k, m in exp.outcomes.items()},
        "baseline": result.baseline_key,
        "levers": {
            lv.name: {
                "values": list(lv.values),
                "baseline": lv.baseline,
                "keys": [variant_key(p) for p in lv.points],
            }
            for lv in exp.levers
        },
    }
    return run_manifest("levers", result, specific, command)


def runs_table(result: LeverResult) -> pd.DataFrame:
    """Every run's outcome values: key, block, replicate, then one column per outcome."""
    frames = []
    for key, v in result.variants.items():
        blocks, reps = v.values.shape[1:]
        df = pd.DataFrame(
            {
                "key": key,
                "block": np.repeat(np.arange(blocks), reps),
                "replicate": np.tile(np.arange(reps), blocks),
            }
        )
        for name, m in result.experiment.outcomes.items():
            df[name] = v.of(m).ravel()
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def write_levers(
    result: LeverResult,
    out: Path | str,
    *,
    doc: Path | str | None = None,
    figures: Path | str | None = None,
    command: str | None = None,
) -> list[Path]:
    """Write levers.csv, runs.csv, manifest.json, levers.md and the figures.

    With ``figures``, the PNGs also go there, and with ``doc`` the report is
    also written there, linking the figures by their path relative to it.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    command = command_line(command)
    paths = [out / "levers.csv", out / "runs.csv", out / "manifest.json"]
    table(result).to_csv(paths[0], index=False)
    runs_table(result).to_csv(paths[1], index=False)
    write_json(paths[2], manifest(result, command))
    pngs = {o: plot(result, o, out / f"levers_{o}.png") for o in result.experiment.outcomes}
    paths += list(pngs.values())
    md = out / "levers.md"
    md.write_text(markdown(result, {o: p.name for o, p in pngs.items()}, command))
    paths.append(md)
    copies = dict(pngs)
    if figures is not None:
        figdir = Path(figures)
        figdir.mkdir(parents=True, exist_ok=True)
        for o, p in pngs.items():
            copies[o] = figdir / p.name
            shutil.copyfile(p, copies[o])
            paths.append(copies[o])
    if doc is not None:
        doc = Path(doc)
        doc.parent.mkdir(parents=True, exist_ok=True)
        rel = {o: _relative(p, doc.parent) for o, p in copies.items()}
        doc.write_text(markdown(result, rel, command))
        paths.append(doc)
    return paths


def _relative(path: Path, start: Path) -> str:
    import os

    return Path(os.path.relpath(path.resolve(), start.resolve())).as_posix()
