"""Scenario files: TOML presets and user files, validated against the schema.

A scenario file looks like::

    description = "What this scenario shows, in one sentence."
    extends = "baseline"      # optional: a preset name or a path
    seed = 1                  # optional
    steps = 120               # optional (months)
    replicates = 16           # optional: runs with seeds (seed, rep); `civsim run` uses it

    [params]
    austerity_rate = -0.047

Every problem is reported as one :class:`~civsim.errors.UserError` line that
names the file, the key, the value and what is allowed.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from civsim.errors import UserError
from civsim.params import SCHEMA, ParamError, check, resolve

PRESET_DIR = Path(__file__).resolve().parent.parent / "scenarios"
"""Where the shipped presets live (``scenarios/`` at the repository root)."""
TOP_KEYS = ("description", "extends", "seed", "steps", "replicates", "params")
MAX_REPLICATES = 10000
DEFAULT_STEPS = 120
MAX_STEPS = 2400


@dataclass
class Scenario:
    """A validated scenario: its parameter overrides and run settings."""

    name: str
    description: str
    params: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    steps: int = DEFAULT_STEPS
    source: str = ""
    replicates: int = 1

    @property
    def resolved(self) -> dict[str, Any]:
        """Every parameter: defaults updated with this scenario's overrides."""
        return resolve(self.params)


def preset_path(name: str) -> Path:
    """Path of the preset called ``name``."""
    return PRESET_DIR / f"{name}.toml"


def preset_names() -> list[str]:
    """Names of the shipped presets, sorted."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.toml"))


def list_presets() -> list[Scenario]:
    """Every shipped preset, loaded and validated."""
    return [load_scenario(n) for n in preset_names()]


def load_scenario(name_or_path: str | Path, _seen: tuple[str, ...] = ()) -> Scenario:
    """Load a preset by name, or a scenario file by path, following ``extends``.

    Raises
    ------
    UserError
        For a missing file, broken TOML, unknown keys (with a did-you-mean
        hint), wrong types, out-of-range or NaN values, or an ``extends`` cycle.
    """
    text, source, name = _read(name_or_path)
    if source in _seen:
        raise UserError(f"{source}: extends = {name!r} makes a cycle ({' -> '.join(_seen + (source,))})")
    return parse_scenario_text(text, source, name=name, _seen=_seen + (source,))


def _read(name_or_path: str | Path) -> tuple[str, str, str]:
    raw = str(name_or_path)
    path = Path(raw)
    if not raw.endswith(".toml") and "/" not in raw and not path.exists():
        path = preset_path(raw)
        if not path.exists():
            hint = difflib.get_close_matches(raw, preset_names(), n=1)
            extra = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise UserError(f"no preset or file named {raw!r}{extra}; presets: {', '.join(preset_names())}")
    if not path.is_file():
        raise UserError(f"{raw}: file not found")
    try:
        return path.read_text(encoding="utf-8"), str(path), path.stem
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{raw}: cannot read file ({exc})") from None


def parse_scenario_text(
    text: str, source: str, name: str | None = None, _seen: tuple[str, ...] = ()
) -> Scenario:
    """Parse and validate scenario TOML ``text``; ``source`` names it in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{source}: invalid TOML: {exc}") from None
    for key in data:
        if key not in TOP_KEYS:
            hint = difflib.get_close_matches(key, TOP_KEYS + tuple(SCHEMA), n=1)
            extra = f" (did you mean {hint[0]!r}?)" if hint else ""
            where = " (parameters go under [params])" if key in SCHEMA else ""
            raise UserError(f"{source}: unknown key {key!r}{extra}{where}; allowed: {', '.join(TOP_KEYS)}")
    base = Scenario(name=name or Path(source).stem, description="", source=source)
    if "extends" in data:
        parent = data["extends"]
        if not isinstance(parent, str):
            raise UserError(
                f"{source}: extends = {parent!r} is not allowed: expected a preset name or a file path"
            )
        target = (
            parent
            if parent in preset_names() or not Path(source).parent.joinpath(parent).exists()
            else str(Path(source).parent / parent)
        )
        base = load_scenario(target, _seen)
        base.name, base.source = name or Path(source).stem, source
    description = data.get("description", base.description)
    if not isinstance(description, str):
        raise UserError(f"{source}: description = {description!r} is not allowed: expected a string")
    seed = _int_key(data, "seed", base.seed, source, 0, 2**63 - 1)
    steps = _int_key(data, "steps", base.steps, source, 1, MAX_STEPS)
    replicates = _int_key(data, "replicates", base.replicates, source, 1, MAX_REPLICATES)
    table = data.get("params", {})
    if not isinstance(table, dict):
        raise UserError(f"{source}: params = {table!r} is not allowed: expected a table [params]")
    params = dict(base.params)
    for key, value in table.items():
        try:
            params[key] = check(key, value)
        except ParamError as exc:
            raise UserError(f"{source}: [params] {exc}") from None
    scenario = Scenario(
        name=base.name, description=description, params=params, seed=seed, steps=steps, source=source,
        replicates=replicates,
    )  # fmt: skip
    try:
        resolve(params)
    except ParamError as exc:
        raise UserError(f"{source}: [params] {exc}") from None
    return scenario


def _int_key(data: dict[str, Any], key: str, default: int, source: str, lo: int, hi: int) -> int:
    if key not in data:
        return default
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        shown = "nan" if isinstance(value, float) and math.isnan(value) else repr(value)
        raise UserError(f"{source}: {key} = {shown} is not allowed: expected an integer in [{lo}, {hi}]")
    return value


def apply_overrides(scenario: Scenario, pairs: list[str], source: str = "--set") -> Scenario:
    """Apply ``key=value`` overrides from the command line (values parsed as TOML, else as text)."""
    params = dict(scenario.params)
    for pair in pairs:
        if "=" not in pair:
            raise UserError(f"{source} {pair!r} is not allowed: expected key=value")
        key, raw = (s.strip() for s in pair.split("=", 1))
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        try:
            params[key] = check(key, value)
        except ParamError as exc:
            raise UserError(f"{source} {exc}") from None
    try:
        resolve(params)
    except ParamError as exc:
        raise UserError(f"{source} {exc}") from None
    return Scenario(
        scenario.name, scenario.description, params, scenario.seed, scenario.steps, scenario.source,
        scenario.replicates,
    )  # fmt: skip


def scenario_to_toml(
    name: str,
    description: str,
    overrides: dict[str, Any],
    seed: int = 0,
    steps: int = DEFAULT_STEPS,
    replicates: int = 1,
) -> str:
    """Write a scenario as TOML that :func:`load_scenario` reads back identically."""
    lines = [
        f"# civsim scenario: {name}",
        f"description = {_toml(description)}",
        f"seed = {int(seed)}",
        f"steps = {int(steps)}",
    ]
    if int(replicates) != 1:
        lines.append(f"replicates = {int(replicates)}")
    lines += [
        "",
        "[params]",
    ]
    for key in SCHEMA:
        if key in overrides:
            lines.append(f"{key} = {_toml(overrides[key])}")
    return "\n".join(lines) + "\n"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
