"""Ablation files: the model's patterns, their arms, measures and ablations.

An ablation file (``experiments/ablation.toml``) lists patterns. Each pattern
has the sentence it tests, a reference and a treatment arm (presets and/or
parameter overrides), one measure (:mod:`.measures`), the expected sign of
treatment minus reference, and ablations: named overrides applied to *both*
arms that switch a contributing mechanism off. Example::

    [experiment]
    kind = "ablation"
    name = "ablation"
    seed = 2027
    steps = 120
    blocks = 5
    replicates = 4

    [params]                 # every arm of every pattern
    n_citizens = 2000

    [[pattern]]
    name = "austerity_gap"
    claim = "Austerity hurts the marginalised most."
    reference = { preset = "baseline" }
    treatment = { preset = "austerity" }
    metric = { column = "inclusion_gap", stat = "final" }
    expect = "increase"
    [pattern.ablations]
    no_mutual_aid = { mutual_aid = 0.0 }

A run's parameters are, in order: the defaults, ``[experiment] scenario``,
the arm's presets, ``[params]``, the pattern's ``params``, the arm's
``params``, then the ablation's overrides. Problems are one
:class:`~civsim.errors.UserError` line naming the file, the key, the value
and what is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from civsim import params as schema
from civsim.experiments.effects import EXPECT
from civsim.experiments.measures import Measure, parse_measure
from civsim.experiments.paired_spec import (
    MIN_BLOCKS,  # noqa: F401 - re-exported
    PairedExperiment,
    fmt_value,
    load_paired_file,
    parse_base,
    parse_experiment_table,
    parse_level_and_scenario,
    parse_run_settings,
)
from civsim.experiments.tomlcheck import FileCheck, preset_params

KIND = "ablation"
_TOP = ("experiment", "params", "pattern")
_EXPERIMENT = ("kind", "name", "description", "scenario", "seed", "steps", "blocks", "replicates", "level")
_PATTERN = ("name", "claim", "params", "reference", "treatment", "metric", "expect", "margin", "ablations")
_ARM = ("preset", "params")


@dataclass(frozen=True)
class Arm:
    """One arm of a pattern: presets applied in order, then overrides."""

    presets: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        """E.g. ``austerity + mutual_aid = 1``."""
        parts = [Path(p).stem if p.endswith(".toml") else p for p in self.presets]
        parts += [f"{k} = {fmt_value(v)}" for k, v in self.params.items()]
        return " + ".join(parts) if parts else "defaults"


@dataclass(frozen=True)
class Ablation:
    """A mechanism switched off in both arms: a name and its overrides."""

    name: str
    overrides: dict[str, Any]

    def describe(self) -> str:
        """E.g. ``mutual_aid = 0``."""
        return ", ".join(f"{k} = {fmt_value(v)}" for k, v in self.overrides.items())


@dataclass(frozen=True)
class Pattern:
    """A pattern: its claim, two arms, a measure, the expected sign and ablations.

    Attributes
    ----------
    name, claim : str
        Short id and the sentence it tests.
    reference, treatment : Arm
    common : dict
        The pattern's ``params``, applied to both arms.
    measure : Measure
    expect : int
        +1 when the treatment should raise the measure, -1 when it should lower it.
    margin : float
        Smallest effect size that counts as the pattern (0: any).
    ablations : tuple of Ablation
    resolved : dict
        ``(arm, ablation name or "") -> resolved parameters``.
    """

    name: str
    claim: str
    reference: Arm
    treatment: Arm
    common: dict[str, Any]
    measure: Measure
    expect: int
    margin: float
    ablations: tuple[Ablation, ...]
    resolved: dict[tuple[str, str], dict[str, Any]]

    def arms(self, ablation: str = "") -> tuple[dict[str, Any], dict[str, Any]]:
        """Resolved parameters of (reference, treatment), intact or with an ablation."""
        return self.resolved["reference", ablation], self.resolved["treatment", ablation]


@dataclass(frozen=True)
class AblationExperiment(PairedExperiment):
    """A validated ablation file: the common settings (:class:`.PairedExperiment`), then its patterns."""

    patterns: tuple[Pattern, ...]


def load_ablation(
    name_or_path: str | Path,
    *,
    blocks: int | None = None,
    replicates: int | None = None,
    steps: int | None = None,
    citizens: int | None = None,
) -> AblationExperiment:
    """Read and validate an ablation file; the keyword settings override the file's.

    Raises
    ------
    UserError
        One line naming the file, the key, the value and what is allowed.
    """
    return load_paired_file(
        name_or_path,
        "ablation",
        parse_ablation,
        blocks=blocks,
        replicates=replicates,
        steps=steps,
        citizens=citizens,
    )


def parse_ablation(
    data: dict[str, Any],
    path: Path,
    text: str = "",
    *,
    blocks: int | None = None,
    replicates: int | None = None,
    steps: int | None = None,
    citizens: int | None = None,
) -> AblationExperiment:
    """Validate parsed TOML ``data`` of the ablation file ``path`` (see :func:`load_ablation`)."""
    check = FileCheck(path)
    exp = parse_experiment_table(check, data, KIND, _TOP, _EXPERIMENT)
    run = parse_run_settings(check, exp, path, blocks=blocks, replicates=replicates, steps=steps)
    level, scenario, start = parse_level_and_scenario(check, exp)
    base = parse_base(check, data, citizens)
    raw = data.get("pattern")
    if not isinstance(raw, list) or not raw or not all(isinstance(p, dict) for p in raw):
        raise check.fail("[[pattern]]", "missing: an ablation file needs at least one [[pattern]] table")
    patterns: list[Pattern] = []
    for i, table in enumerate(raw):
        pattern = _parse_pattern(check, i, table, start, base, run["steps"])
        if any(p.name == pattern.name for p in patterns):
            raise check.fail(
                f"[[pattern]] {i} name", f"{pattern.name!r} is not allowed: pattern names must be distinct"
            )
        patterns.append(pattern)
    return AblationExperiment(
        **run, path=path, text=text, scenario=scenario, level=level, base=base, patterns=tuple(patterns)
    )


def _parse_pattern(
    check: FileCheck, i: int, table: dict[str, Any], start: dict[str, Any], base: dict[str, Any], steps: int
) -> Pattern:
    check.keys(f"[[pattern]] {i}", table, _PATTERN, required=("name",))
    name = check.string(f"[[pattern]] {i} name", table["name"])
    where = f"[[pattern]] {i} ({name})"
    check.keys(where, table, _PATTERN, required=("claim", "reference", "treatment", "metric", "expect"))
    claim = check.string(f"{where} claim", table["claim"])
    common = check.overrides(f"{where} params", table.get("params", {}))
    arms = {a: _parse_arm(check, f"{where} {a}", table[a]) for a in ("reference", "treatment")}
    expect = EXPECT[check.string(f"{where} expect", table["expect"], tuple(EXPECT))]
    margin = check.number(f"{where} margin", table.get("margin", 0.0), 0.0, 1e9)
    ablations = []
    for key, value in check.table(f"{where} ablations", table.get("ablations", {})).items():
        overrides = check.overrides(f"{where} ablations.{key}", value)
        if not overrides:
            raise check.fail(
                f"{where} ablations.{key}", "{} is not allowed: an ablation sets at least one parameter"
            )
        ablations.append(Ablation(key, overrides))

    resolved: dict[tuple[str, str], dict[str, Any]] = {}
    for a, arm in arms.items():
        merged = {**start, **preset_params(arm.presets), **base, **common, **arm.params}
        for ab in (Ablation("", {}), *ablations):
            label = f"{where} {a}" + (f" with ablation {ab.name}" if ab.name else "")
            try:
                resolved[a, ab.name] = schema.resolve({**merged, **ab.overrides})
            except schema.ParamError as exc:
                raise check.fail(label, str(exc)) from None
    ref, trt = resolved["reference", ""], resolved["treatment", ""]
    differ = sorted(k for k in ref if ref[k] != trt[k])
    if not differ:
        raise check.fail(where, "the reference and treatment arms resolve to the same parameters")
    for name_, p in schema.SCHEMA.items():
        if p.structural and ref[name_] != trt[name_]:
            raise check.fail(
                where, f"the arms differ in the structural parameter {name_}: they cannot be paired"
            )
    for ab in ablations:
        clash = [k for k in ab.overrides if k in differ]
        if clash:
            raise check.fail(
                f"{where} ablations.{ab.name}",
                f"sets {', '.join(clash)}, which the arms compare: "
                "it would remove the treatment, not a mechanism",
            )
        if all(resolved[a, ab.name] == resolved[a, ""] for a in arms):
            raise check.fail(
                f"{where} ablations.{ab.name}",
                f"{ab.describe()} changes nothing: both arms already have these values",
            )
    from civsim.experiments.spec import series_metrics

    measure = parse_measure(
        check, f"{where} metric", table["metric"], series_metrics(ref), tuple(ref["domains"]), steps
    )
    if measure.needs_shock:
        for a in arms:
            r = resolved[a, ""]
            if r["shock_month"] < 0 and r["random_shock_rate"] == 0:
                raise check.fail(
                    f"{where} metric",
                    f"{measure.summary} needs a shock, but the {a} arm has none "
                    "(set shock_month or random_shock_rate)",
                )
    return Pattern(
        name,
        claim,
        arms["reference"],
        arms["treatment"],
        common,
        measure,
        expect,
        margin,
        tuple(ablations),
        resolved,
    )


def _parse_arm(check: FileCheck, where: str, raw: Any) -> Arm:
    table = check.table(where, raw)
    check.keys(where, table, _ARM)
    presets = check.presets(f"{where} preset", table["preset"]) if "preset" in table else ()
    return Arm(presets, check.overrides(f"{where} params", table.get("params", {})))


__all__ = ["Ablation", "AblationExperiment", "Arm", "Pattern", "load_ablation", "parse_ablation"]
