"""Scenario files: TOML presets and user files, validated against the schema.

A scenario file looks like::

    description = "What this scenario shows, in one sentence."
    extends = "baseline"      # optional: a preset name or a path
    seed = 1                  # optional
    steps = 120               # optional (months)
    replicates = 16           # optional: runs with seeds (seed, rep); `civsim run` uses it

    [params]
    austerity_rate = -0.047

File parameters (``threshold_file``, ``edge_file``) are resolved relative to
the scenario file that names them (``--set`` values relative to the working
directory) and stored as absolute paths; the files are read and checked when
the scenario loads.

Every problem is reported as one :class:`~civsim.errors.UserError` line that
names the file, the key, the value and what is allowed.
"""

from __future__ import annotations

import difflib
import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from civsim import inputs, safeio
from civsim.errors import UserError
from civsim.params import SCHEMA, ParamError, check, resolve

PRESET_DIR = Path(__file__).resolve().parent.parent / "scenarios"
"""Where the shipped presets live (``scenarios/`` at the repository root)."""
TOP_KEYS = ("description", "extends", "seed", "steps", "replicates", "params")
MAX_REPLICATES = 10000
DEFAULT_STEPS = 120
MAX_STEPS = 2400
MAX_SEED = 2**63 - 1
"""Largest seed (scenario files, ``--seed``, experiment files)."""


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


MAX_EXTENDS = 16
"""Longest chain of ``extends`` followed."""


def load_scenario(
    name_or_path: str | Path, _seen: tuple[str, ...] = (), *, presets_only: bool = False
) -> Scenario:
    """Load a preset by name, or a scenario file by path, following ``extends``.

    Parameters
    ----------
    name_or_path : str or pathlib.Path
        A preset name, or a path to a scenario TOML file.
    presets_only : bool
        Only preset names are accepted (the web app: a browser may not name
        files on the server).

    Raises
    ------
    UserError
        For a missing file, broken TOML, unknown keys (with a did-you-mean
        hint), wrong types, out-of-range or NaN values, or an ``extends`` cycle.
    """
    text, source, name, ident = _read(name_or_path, presets_only)
    if ident in _seen:
        raise UserError(f"{source}: extends makes a cycle ({' -> '.join(_seen + (ident,))})")
    if len(_seen) >= MAX_EXTENDS:
        raise UserError(f"{source}: extends chain longer than {MAX_EXTENDS} files")
    return parse_scenario_text(text, source, name=name, _seen=_seen + (ident,), presets_only=presets_only)


def _read(name_or_path: str | Path, presets_only: bool = False) -> tuple[str, str, str, str]:
    """Text, source (for messages), name and identity (resolved path) of a preset or file."""
    raw = str(name_or_path)
    if raw in preset_names():
        path = preset_path(raw)
        return safeio.read_text(path, str(path)), str(path), raw, str(path.resolve())
    if presets_only:
        raise UserError(f"no preset named {_short(raw)}; presets: {', '.join(preset_names())}")
    if not raw.strip():
        raise UserError("an empty name is not a preset or a file")
    path = Path(raw)
    if not raw.endswith(".toml") and "/" not in raw and not os.path.lexists(path):
        hint = difflib.get_close_matches(raw, preset_names(), n=1)
        extra = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise UserError(f"no preset or file named {raw!r}{extra}; presets: {', '.join(preset_names())}")
    text = safeio.read_text(path, raw)
    try:
        ident = str(path.resolve())
    except (OSError, RuntimeError):
        ident = os.path.abspath(raw)
    return text, str(path), path.stem, ident


def _short(value: object, limit: int = 60) -> str:
    """``repr`` of a user value, cut to ``limit`` characters (messages stay one short line)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def parse_scenario_text(
    text: str,
    source: str,
    name: str | None = None,
    _seen: tuple[str, ...] = (),
    files: bool = True,
    *,
    presets_only: bool = False,
) -> Scenario:
    """Parse and validate scenario TOML ``text``; ``source`` names it in errors.

    File parameters are resolved relative to ``source``'s folder. With
    ``presets_only`` (uploads to the web app) ``extends`` may name only a
    shipped preset, ``source`` is never used to build a path (any other value
    is refused with the same message, whatever exists on the server), and the
    text may not name files itself, though a preset it extends may
    (``files=False`` asks for the last alone).
    """
    files = files and not presets_only
    data = safeio.loads(text, source)
    for key in data:
        if key not in TOP_KEYS:
            if key in SCHEMA:
                raise UserError(
                    f"{source}: unknown key {key!r} at the top level: parameters go under [params] "
                    f"(write [params] then {key} = ...); allowed at the top: {', '.join(TOP_KEYS)}"
                )
            hint = difflib.get_close_matches(key, TOP_KEYS + tuple(SCHEMA), n=1)
            extra = f" (did you mean {hint[0]!r}?)" if hint else ""
            where = " (parameters go under [params])" if hint and hint[0] in SCHEMA else ""
            raise UserError(
                f"{source}: unknown key {_short(key)}{extra}{where}; allowed: {', '.join(TOP_KEYS)}"
            )
    base = Scenario(name=name or Path(source).stem, description="", source=source)
    if "extends" in data:
        base = _extends(data["extends"], source, _seen, presets_only)
        base.name, base.source = name or Path(source).stem, source
    description = data.get("description", base.description)
    if not isinstance(description, str):
        raise UserError(f"{source}: description = {_short(description)} is not allowed: expected a string")
    seed = _int_key(data, "seed", base.seed, source, 0, MAX_SEED)
    steps = _int_key(data, "steps", base.steps, source, 1, MAX_STEPS)
    replicates = _int_key(data, "replicates", base.replicates, source, 1, MAX_REPLICATES)
    table = data.get("params", {})
    if not isinstance(table, dict):
        raise UserError(f"{source}: params = {_short(table)} is not allowed: expected a table [params]")
    params = dict(base.params)
    for key, value in table.items():
        try:
            params[key] = check(key, value)
        except ParamError as exc:
            raise UserError(f"{source}: [params] {exc}") from None
        if key in inputs.path_keys() and params[key]:
            if not files:
                raise UserError(
                    f"{source}: [params] {key} = {value!r} is not allowed here: an uploaded scenario cannot "
                    'name files on the server; extend a preset that does (e.g. extends = "granovetter")'
                )
            params[key] = inputs.absolute(params[key], Path(source).parent)
    scenario = Scenario(
        name=base.name, description=description, params=params, seed=seed, steps=steps, source=source,
        replicates=replicates,
    )  # fmt: skip
    _check_resolved(params, f"{source}: [params]")
    return scenario


def _check_resolved(params: dict[str, Any], where: str) -> None:
    """Resolve ``params`` (cross-parameter rules) and check the files they use; one-line errors."""
    try:
        resolved = resolve(params)
    except ParamError as exc:
        raise UserError(f"{where} {exc}") from None
    try:
        inputs.check_files(resolved)
    except UserError as exc:
        raise UserError(f"{where} {exc}") from None


def _extends(parent: Any, source: str, seen: tuple[str, ...], presets_only: bool) -> Scenario:
    """Load the scenario ``extends = parent`` of the file ``source`` names."""
    presets = preset_names()
    if presets_only:
        if not isinstance(parent, str) or parent not in presets:
            raise UserError(
                f"{source}: extends = {_short(parent)} is not allowed: an uploaded scenario may extend "
                f"only a preset, by name ({', '.join(presets)})"
            )
        return load_scenario(parent, seen)  # a shipped preset is trusted, files and all
    if not isinstance(parent, str) or not parent.strip():
        raise UserError(
            f"{source}: extends = {_short(parent)} is not allowed: expected a preset name "
            f"({', '.join(presets)}) or a path to a scenario file"
        )
    if parent in presets:
        target = parent
    else:
        # a path is relative to the file that names it
        target = str(Path(source).parent / parent) if not Path(parent).is_absolute() else parent
        if not os.path.lexists(target) and not parent.endswith(".toml") and "/" not in parent:
            hint = difflib.get_close_matches(parent, presets, n=1)
            extra = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise UserError(
                f"{source}: extends = {_short(parent)}: no preset or file of that name{extra}; "
                f"presets: {', '.join(presets)}"
            )
    try:
        return load_scenario(target, seen)
    except UserError as exc:
        text = str(exc)
        if text.startswith(f"{target}: "):  # the parent's own problem: say who pointed at it
            text = text[len(target) + 2 :]
            raise UserError(f"{source}: extends = {_short(parent)}: {target}: {text}") from None
        raise


def _int_key(data: dict[str, Any], key: str, default: int, source: str, lo: int, hi: int) -> int:
    if key not in data:
        return default
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        shown = "nan" if isinstance(value, float) and math.isnan(value) else repr(value)
        raise UserError(f"{source}: {key} = {shown} is not allowed: expected an integer in [{lo}, {hi}]")
    return value


def apply_overrides(scenario: Scenario, pairs: list[str], source: str = "--set") -> Scenario:
    """Apply ``key=value`` overrides from the command line (values parsed as TOML, else as text).

    File parameters are resolved relative to the working directory.
    """
    params = dict(scenario.params)
    for pair in pairs:
        if "=" not in pair:
            raise UserError(f"{source} {pair!r} is not allowed: expected key=value")
        key, raw = (s.strip() for s in pair.split("=", 1))
        try:
            safeio.check_toml_shape(f"v = {raw}", f"{source} {key}")
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        try:
            params[key] = check(key, value)
        except ParamError as exc:
            raise UserError(f"{source} {exc}") from None
        if key in inputs.path_keys():
            params[key] = inputs.absolute(params[key], Path.cwd())
    _check_resolved(params, source)
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
