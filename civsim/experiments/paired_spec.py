"""What ablation and lever files share: the ``[experiment]`` table and the run settings.

Both kinds of file (:mod:`.ablation_spec`, :mod:`.levers_spec`) run paired arms over
the same seed blocks (:mod:`.paired`), so both name a seed, steps, blocks, replicates,
a confidence level and optionally a base scenario, checked here in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from civsim.experiments.effects import LEVEL
from civsim.experiments.tomlcheck import FileCheck, find_file, preset_params, read_toml

MIN_BLOCKS = 2
"""Fewest seed blocks a file may ask for (an interval needs two; the brief asks for five)."""


@dataclass(frozen=True)
class PairedExperiment:
    """The settings every ablation and lever file has."""

    name: str
    description: str
    path: Path
    text: str
    scenario: str | None
    seed: int
    steps: int
    blocks: int
    replicates: int
    level: float
    base: dict[str, Any]

    def settings(self) -> dict[str, Any]:
        """Run settings, JSON-ready."""
        return {
            "seed": self.seed,
            "steps": self.steps,
            "blocks": self.blocks,
            "replicates": self.replicates,
            "level": self.level,
        }


def load_paired_file[T](
    name_or_path: str | Path, word: str, parse: Callable[..., T], **overrides: int | None
) -> T:
    """Find a file (``word``: ``"ablation"``, ``"lever"``), read its TOML and ``parse`` it."""
    path = find_file(name_or_path, word)
    data, text = read_toml(path)
    return parse(data, path, text, **overrides)


def parse_experiment_table(
    check: FileCheck, data: dict[str, Any], kind: str, top: tuple[str, ...], keys: tuple[str, ...]
) -> dict[str, Any]:
    """Check the top-level tables and the ``[experiment]`` table common to ablation and lever files."""
    for key in data:
        if key not in top:
            raise check.fail(
                "top level", f"unknown table {key!r}; allowed: {', '.join('[' + k + ']' for k in top)}"
            )
    if "experiment" not in data:
        raise check.fail("top level", f"missing the [experiment] table (kind = {kind!r}, seed, ...)")
    exp = check.table("[experiment]", data["experiment"])
    check.keys("[experiment]", exp, keys)
    if exp.get("kind") != kind:
        raise check.fail(
            "[experiment] kind",
            f"{exp.get('kind')!r} is not allowed: this is read as a {kind} file, so kind = {kind!r}",
        )
    if "seed" not in exp:
        raise check.fail(
            "[experiment] seed", "missing: every experiment needs a seed (a non-negative integer)"
        )
    return exp


def parse_run_settings(
    check: FileCheck,
    exp: dict[str, Any],
    path: Path,
    *,
    blocks: int | None,
    replicates: int | None,
    steps: int | None,
) -> dict[str, Any]:
    """Name, description, seed, steps, blocks and replicates (the keywords override the file's)."""
    name = check.string("[experiment] name", exp.get("name", path.stem))
    description = exp.get("description", "")
    if not isinstance(description, str):
        raise check.fail("[experiment] description", f"{description!r} is not allowed: expected a string")
    seed = check.integer("[experiment] seed", exp["seed"], 0, 2**63 - 1)
    n_steps = check.integer(
        "[experiment] steps", steps if steps is not None else exp.get("steps", 120), 1, 2400
    )
    n_blocks = check.integer(
        "[experiment] blocks", blocks if blocks is not None else exp.get("blocks", 5), MIN_BLOCKS, 1000
    )
    reps = check.integer(
        "[experiment] replicates",
        replicates if replicates is not None else exp.get("replicates", 4),
        1,
        10_000,
    )
    return {
        "name": name,
        "description": description,
        "seed": seed,
        "steps": n_steps,
        "blocks": n_blocks,
        "replicates": reps,
    }


def parse_level_and_scenario(
    check: FileCheck, exp: dict[str, Any]
) -> tuple[float, str | None, dict[str, Any]]:
    """The confidence level, the base scenario (or None) and the scenario's parameters."""
    level = check.number("[experiment] level", exp.get("level", LEVEL), 0.5, 0.999)
    scenario = None
    start: dict[str, Any] = {}
    if "scenario" in exp:
        (scenario,) = check.presets(
            "[experiment] scenario", check.string("[experiment] scenario", exp["scenario"])
        )
        start = preset_params((scenario,))
    return level, scenario, start


def parse_base(check: FileCheck, data: dict[str, Any], citizens: int | None) -> dict[str, Any]:
    """The ``[params]`` overrides, with ``--citizens`` (when given) as ``n_citizens``."""
    base = check.overrides("[params]", data.get("params", {}))
    if citizens is not None:
        base["n_citizens"] = check.param("--citizens", "n_citizens", citizens)
    return base


def fmt_value(v: Any) -> str:
    """A parameter value as written in files: ``true``, ``0.5``, ``baseline``."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)
