"""Validation helpers for the ablation and lever files: one line per problem.

Every problem becomes a :class:`civsim.errors.UserError` whose message names
the file, the key, the value and what is allowed, e.g.::

    experiments/ablation.toml: [[pattern]] 2 (austerity) reference.params: unknown parameter 'mutal_aid'
    (did you mean 'mutual_aid'?); run `civsim params` to list them
"""

from __future__ import annotations

import difflib
import math
import tomllib
from pathlib import Path
from typing import Any

from civsim import params as schema
from civsim.errors import UserError


def hint(name: str, allowed: list[str] | tuple[str, ...]) -> str:
    """A ``(did you mean ...?)`` suffix for a near miss, or ''."""
    close = difflib.get_close_matches(str(name), list(allowed), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def read_toml(path: Path) -> tuple[dict[str, Any], str]:
    """Parse a TOML file; a missing, unreadable or broken file is one UserError line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read the file: {exc}") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: not valid TOML: {exc}") from None


def find_file(name_or_path: str | Path, kind: str) -> Path:
    """A file by path, or by name in ``./experiments/``; else one UserError line."""
    p = Path(name_or_path)
    if p.is_file():
        return p
    if p.suffix == "" and (Path("experiments") / f"{p}.toml").is_file():
        return Path("experiments") / f"{p}.toml"
    raise UserError(f"{kind} file {str(name_or_path)!r} not found")


class FileCheck:
    """Checks values of one file and builds its error messages.

    Parameters
    ----------
    path : pathlib.Path
        The file, named at the start of every message.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, msg: str) -> UserError:
        """The error for ``where`` (a key path such as ``[experiment] seed``)."""
        return UserError(f"{self.path}: {where}: {msg}")

    def keys(
        self, where: str, table: dict[str, Any], allowed: tuple[str, ...], required: tuple[str, ...] = ()
    ) -> None:
        """Refuse unknown keys (with a did-you-mean hint) and missing required ones."""
        for key in table:
            if key not in allowed:
                raise self.fail(
                    where, f"unknown key {key!r}{hint(key, allowed)}; allowed keys: {', '.join(allowed)}"
                )
        for key in required:
            if key not in table:
                raise self.fail(f"{where} {key}", f"missing: {where} needs {key}")

    def table(self, where: str, value: Any) -> dict[str, Any]:
        """``value`` if it is a table."""
        if not isinstance(value, dict):
            raise self.fail(where, f"{value!r} is not allowed: expected a table ({{ ... }})")
        return value

    def integer(self, where: str, value: Any, lo: int, hi: int) -> int:
        """``value`` if it is an integer in [lo, hi]."""
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise self.fail(where, f"{value!r} is not allowed: expected an integer in [{lo}, {hi}]")
        return value

    def number(self, where: str, value: Any, lo: float, hi: float) -> float:
        """``value`` if it is a finite number in [lo, hi]."""
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or not lo <= value <= hi
        ):
            raise self.fail(where, f"{value!r} is not allowed: expected a number in [{lo:g}, {hi:g}]")
        return float(value)

    def string(self, where: str, value: Any, choices: tuple[str, ...] = ()) -> str:
        """``value`` if it is a non-empty string (one of ``choices`` when given)."""
        if not isinstance(value, str) or not value:
            raise self.fail(where, f"{value!r} is not allowed: expected a non-empty string")
        if choices and value not in choices:
            raise self.fail(
                where,
                f"{value!r} is not allowed: expected one of {', '.join(repr(c) for c in choices)}"
                f"{hint(value, choices)}",
            )
        return value

    def names(self, where: str, value: Any, known: tuple[str, ...] | list[str], what: str) -> tuple[str, ...]:
        """A name or a non-empty list of distinct names, each in ``known``."""
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items or not all(isinstance(v, str) for v in items):
            raise self.fail(where, f"{value!r} is not allowed: expected a {what} name or a list of them")
        for v in items:
            if v not in known:
                shown = ", ".join(known) if len(known) <= 40 else ", ".join(list(known)[:40]) + ", ..."
                raise self.fail(where, f"unknown {what} {v!r}{hint(v, known)}; known: {shown}")
        if len(set(items)) != len(items):
            raise self.fail(where, f"{value!r} is not allowed: names must be distinct")
        return tuple(items)

    def param(self, where: str, name: str, value: Any) -> Any:
        """A parameter value checked against the schema."""
        try:
            return schema.check(name, value)
        except schema.ParamError as exc:
            raise self.fail(where, str(exc)) from None

    def overrides(self, where: str, value: Any) -> dict[str, Any]:
        """A table of parameter overrides, each checked against the schema."""
        table = self.table(where, value)
        return {k: self.param(where, k, v) for k, v in table.items()}

    def presets(self, where: str, value: Any) -> tuple[str, ...]:
        """A preset name or path, or a list of them (applied in order); each must load."""
        from civsim.scenario import load_scenario

        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items or not all(isinstance(v, str) and v for v in items):
            raise self.fail(where, f"{value!r} is not allowed: expected a preset name or a list of them")
        out = []
        for name in items:
            target = name
            if name.endswith(".toml") or "/" in name:
                rel = (self.path.parent / name).resolve()
                target = str(rel) if rel.is_file() else name
            try:
                load_scenario(target)
            except UserError as exc:
                raise self.fail(where, str(exc)) from None
            out.append(target)
        return tuple(out)


def preset_params(presets: tuple[str, ...]) -> dict[str, Any]:
    """Overrides of presets applied in order (later ones win)."""
    from civsim.scenario import load_scenario

    out: dict[str, Any] = {}
    for name in presets:
        out.update(load_scenario(name).params)
    return out
