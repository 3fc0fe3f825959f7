"""Pattern ablations: which mechanism produces which pattern.

For every pattern of an ablation file (:mod:`.ablation_spec`) this runs the
reference and treatment arms over the same independent seed blocks
(:mod:`.paired`), computes the effect (treatment - reference) per block and
pooled with a t interval over blocks (:mod:`.effects`), says whether its sign
is the expected one in every block, and does the same with each ablation
applied to both arms. Identical parameter points (e.g. a baseline shared by
several patterns) run once.

:func:`write_ablation` writes ``ablation.csv`` (one row per pattern and
ablation), ``runs.csv`` (every run's value), ``manifest.json`` (the file, the
seed rule, every run's resolved parameters, versions, timings) and
``ablation.md`` (the table a reader uses to see which mechanism produces
which pattern).

Examples
--------
>>> from civsim.experiments.ablation import run_ablation, write_ablation  # doctest: +SKIP
>>> from civsim.experiments.ablation_spec import load_ablation
>>> res = run_ablation(load_ablation("experiments/ablation.toml"), workers=2)
>>> write_ablation(res, "runs/ablation", doc="docs/ablation.md")
"""

from __future__ import annotations

import math
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from civsim.experiments.ablation_spec import AblationExperiment, Pattern
from civsim.experiments.effects import BlockEffect, paired_block_effect
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

INTACT = ""
"""Ablation name of the intact model in results."""


@dataclass
class Row:
    """One pattern, intact or with one ablation."""

    pattern: Pattern
    ablation: str
    effect: BlockEffect
    keys: tuple[str, str]
    censored: tuple[int, int]

    @property
    def verdict(self) -> str:
        """``holds``, ``weak``, ``none``, ``zero`` or ``reversed`` (see :meth:`BlockEffect.verdict`)."""
        return self.effect.verdict(self.pattern.margin)


@dataclass
class AblationResult:
    """Everything an ablation run produced."""

    experiment: AblationExperiment
    rows: list[Row]
    variants: dict[str, VariantResult]
    stats: RunStats
    engine: str

    def row(self, pattern: str, ablation: str = INTACT) -> Row:
        """The row of ``pattern`` (intact, or with the named ablation)."""
        for r in self.rows:
            if r.pattern.name == pattern and r.ablation == ablation:
                return r
        raise KeyError(f"no row for pattern {pattern!r}, ablation {ablation!r}")

    def share(self, row: Row) -> float:
        """An ablated effect as a share of the same pattern's intact effect."""
        return row.effect.share_of(self.row(row.pattern.name).effect)


def plan_variants(exp: AblationExperiment) -> dict[str, tuple[dict[str, Any], tuple[Any, ...]]]:
    """Unique parameter points to run, with the measures each must report."""
    variants: dict[str, tuple[dict[str, Any], list[Any]]] = {}
    for p in exp.patterns:
        for ab in (INTACT, *(a.name for a in p.ablations)):
            for params in p.arms(ab):
                key = variant_key(params)
                _, measures = variants.setdefault(key, (params, []))
                if p.measure not in measures:
                    measures.append(p.measure)
    return {k: (params, tuple(ms)) for k, (params, ms) in variants.items()}


def run_ablation(
    exp: AblationExperiment,
    *,
    workers: int | None = 1,
    backend: str = "auto",
    scheduler: str | None = None,
    engine: str | EngineFn = "batch",
    progress: ProgressFn | None = None,
) -> AblationResult:
    """Run every pattern's arms, intact and ablated, and compute the effects.

    Parameters
    ----------
    exp : AblationExperiment
        A validated ablation file.
    workers, backend, scheduler
        Where the runs go (see :func:`civsim.experiments.paired.run_variants`).
    engine : str or callable
        ``"batch"``, or a fake engine for tests.
    progress : callable, optional
        ``(runs_done, runs_total)`` after each chunk.

    Returns
    -------
    AblationResult
    """
    variants = plan_variants(exp)
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
    rows = []
    for p in exp.patterns:
        for ab in (INTACT, *(a.name for a in p.ablations)):
            kr, kt = (variant_key(params) for params in p.arms(ab))
            ref, trt = results[kr], results[kt]
            eff = paired_block_effect(ref.of(p.measure), trt.of(p.measure), p.expect, exp.level)
            rows.append(Row(p, ab, eff, (kr, kt), (ref.censored_of(p.measure), trt.censored_of(p.measure))))
    return AblationResult(exp, rows, results, stats, engine_name(engine))


# ----------------------------------------------------------------------------
# Tables and files


def table(result: AblationResult) -> pd.DataFrame:
    """One row per pattern and ablation: effect, interval, block effects, sign, verdict."""
    records = []
    for row in result.rows:
        p = row.pattern
        ab = next((a for a in p.ablations if a.name == row.ablation), None)
        records.append(
            {
                "pattern": p.name,
                "ablation": row.ablation or "(none)",
                "overrides": ab.describe() if ab else "",
                "metric": p.measure.label(),
                "expect": "increase" if p.expect > 0 else "decrease",
                "margin": p.margin,
                **row.effect.as_dict(),
                "verdict": row.verdict,
                "share_of_intact": result.share(row) if row.ablation else 1.0,
                "censored_reference": row.censored[0],
                "censored_treatment": row.censored[1],
                "reference_key": row.keys[0],
                "treatment_key": row.keys[1],
            }
        )
    return pd.DataFrame.from_records(records)


def runs_table(result: AblationResult) -> pd.DataFrame:
    """Every run's value: pattern, ablation, arm, block, replicate, value, censored."""
    records = []
    for row in result.rows:
        m = row.pattern.measure
        for arm, key in zip(("reference", "treatment"), row.keys, strict=True):
            v = result.variants[key]
            vals, cens = v.of(m), v.censored[v.measures.index(m)]
            for b in range(vals.shape[0]):
                for r in range(vals.shape[1]):
                    records.append(
                        {
                            "pattern": row.pattern.name,
                            "ablation": row.ablation or "(none)",
                            "arm": arm,
                            "block": b,
                            "replicate": r,
                            "value": vals[b, r],
                            "censored": bool(cens[b, r]),
                            "key": key,
                        }
                    )
    return pd.DataFrame.from_records(records)


def fmt_effect(e: BlockEffect, digits: int = 4) -> str:
    """``+0.0123 [+0.0100, +0.0146]``."""
    if not math.isfinite(e.effect):
        return "n/a"
    return f"{e.effect:+.{digits}f} [{e.low:+.{digits}f}, {e.high:+.{digits}f}]"


def markdown(result: AblationResult, command: str = "") -> str:
    """The ablation report: a summary table, then one section per pattern."""
    exp, s = result.experiment, result.stats
    lvl = f"{exp.level:.0%}"
    n_runs = exp.blocks * exp.replicates
    lines = [
        f"# Pattern ablations: {exp.name}",
        "",
        "<!-- generated by civsim ablation; do not edit by hand -->",
        "",
        exp.description,
        "",
        f"Each pattern compares a treatment arm with a reference arm over **{exp.blocks} independent seed "
        f"blocks of {exp.replicates} replicates** ({n_runs} paired runs per arm, {exp.steps} months; "
        f"replicate r of block b uses `{SEED_RULE}` with seed {exp.seed} in every arm, so arms are paired "
        f"by common random numbers). The effect is treatment minus reference, averaged over blocks, with a "
        f"{lvl} t interval over the block effects. *Consistent* means every block's effect has the "
        "expected sign. Each ablation applies the same overrides to both arms, switching one contributing "
        "mechanism off; its column gives the effect that remains and its share of the intact effect.",
        "",
        "Verdicts: **holds** (consistent sign, interval excludes 0 on the expected side, at least the "
        "margin), **weak** (expected sign on average but not all of that), **none**, **zero** (exactly 0 "
        "in every block: the arms give identical values), **reversed** (interval wholly on the wrong side).",
        "",
    ]
    lines += regenerate_lines(command, s)
    lines += [
        f"| pattern | metric | expected | effect [{lvl} CI] | consistent sign | verdict | "
        f"effect with each mechanism off [{lvl} CI] (share of intact) |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in exp.patterns:
        intact = result.row(p.name)
        offs = []
        for ab in p.ablations:
            r = result.row(p.name, ab.name)
            share = result.share(r)
            share_s = f"{round(share * 100)}%" if math.isfinite(share) else "n/a"
            offs.append(
                f"`{ab.name}` ({ab.describe()}): {fmt_effect(r.effect)} ({share_s}, "
                f"{'consistent' if r.effect.consistent else 'mixed'}, {r.verdict})"
            )
        lines.append(
            f"| **{p.name}** | {p.measure.label()} | {'+' if p.expect > 0 else '−'} | "
            f"{fmt_effect(intact.effect)} | {'yes' if intact.effect.consistent else 'no'} | "
            f"{intact.verdict} | {'<br>'.join(offs) or '—'} |"
        )
    lines += ["", "## Patterns", ""]
    for p in exp.patterns:
        lines += [
            f"### {p.name}",
            "",
            f"> {p.claim}",
            "",
            f"- reference: {p.reference.describe()}",
            f"- treatment: {p.treatment.describe()}",
        ]
        if p.common:
            lines.append("- both arms: " + ", ".join(f"{k} = {v}" for k, v in p.common.items()))
        lines += [
            f"- metric: {p.measure.label()}, expected to "
            f"{'increase' if p.expect > 0 else 'decrease'}"
            + (f" by at least {p.margin:g}" if p.margin else ""),
            "",
            "| variant | reference | treatment | effect [CI] | block effects | consistent | verdict |",
            "|---|---|---|---|---|---|---|",
        ]
        for ab in (INTACT, *(a.name for a in p.ablations)):
            r = result.row(p.name, ab)
            e = r.effect
            blocks = ", ".join(f"{v:+.4f}" for v in e.blocks)
            cens = f" ({r.censored[0]}/{r.censored[1]} censored)" if any(r.censored) else ""
            lines.append(
                f"| {ab or 'intact'} | {e.reference:.4f} | {e.treatment:.4f} | {fmt_effect(e)}{cens} | "
                f"{blocks} | {'yes' if e.consistent else 'no'} | {r.verdict} |"
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def manifest(result: AblationResult, command: str = "") -> dict[str, Any]:
    """What was run: the file, settings, seed rule, every point's resolved parameters, versions."""
    exp = result.experiment
    patterns = {
        p.name: {
            "claim": p.claim,
            "reference": p.reference.describe(),
            "treatment": p.treatment.describe(),
            "metric": p.measure.as_dict(),
            "expect": p.expect,
            "margin": p.margin,
            "ablations": {a.name: a.overrides for a in p.ablations},
            "keys": {
                (ab or "intact"): dict(
                    zip(("reference", "treatment"), result.row(p.name, ab).keys, strict=True)
                )
                for ab in (INTACT, *(a.name for a in p.ablations))
            },
        }
        for p in exp.patterns
    }
    return run_manifest("ablation", result, {"patterns": patterns}, command)


def write_ablation(
    result: AblationResult, out: Path | str, doc: Path | str | None = None, command: str | None = None
) -> list[Path]:
    """Write ablation.csv, runs.csv, manifest.json and ablation.md to ``out`` (and the .md to ``doc``)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    command = command_line(command)
    paths = [out / "ablation.csv", out / "runs.csv", out / "manifest.json", out / "ablation.md"]
    table(result).to_csv(paths[0], index=False)
    runs_table(result).to_csv(paths[1], index=False)
    write_json(paths[2], manifest(result, command))
    paths[3].write_text(markdown(result, command))
    if doc is not None:
        Path(doc).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(paths[3], doc)
        paths.append(Path(doc))
    return paths
