"""Checks of single values in an experiment file, each failing as one line that names the file."""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

from civsim import params as schema
from civsim.errors import UserError


class _Ctx:
    """Builds error messages that name the file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, msg: str) -> UserError:
        return UserError(f"{self.path}: {where}: {msg}")


def _hint(name: str, allowed: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(name, list(allowed), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_keys(ctx: _Ctx, where: str, table: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for key in table:
        if key not in allowed:
            raise ctx.fail(
                where,
                f"unknown key {key!r}{_hint(key, allowed)}; allowed keys: {', '.join(allowed)}",
            )


def _int(ctx: _Ctx, where: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ctx.fail(where, f"{value!r} is not allowed: expected an integer in [{lo}, {hi}]")
    return value


def _str(ctx: _Ctx, where: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ctx.fail(where, f"{value!r} is not allowed: expected a string")
    return value


_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$")


def _name(ctx: _Ctx, value: Any) -> str:
    """An experiment name: it becomes the directory ``runs/<name>``, so it may not be a path."""
    name = _str(ctx, "[experiment] name", value)
    if not _NAME.match(name) or ".." in name:
        shown = repr(name) if len(name) <= 60 else repr(name[:56]) + "..."
        raise ctx.fail(
            "[experiment] name",
            f"{shown} is not allowed: expected 1-100 letters, digits, '_', '-' or '.' "
            "(not starting with '.' or '-', no '..'); it names the directory runs/<name>",
        )
    return name


def _table(ctx: _Ctx, where: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ctx.fail(
            where, f"{value!r} is not allowed: expected a table ([{where}] or {where} = {{ ... }})"
        )
    return value


def _param(ctx: _Ctx, where: str, name: str, value: Any) -> Any:
    try:
        return schema.check(name, value)
    except schema.ParamError as exc:
        raise ctx.fail(where, str(exc)) from None
