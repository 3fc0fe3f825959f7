"""What a parameter is: :class:`Param`, its strands and the errors it raises.

A :class:`Param` checks and normalises one value (:meth:`Param.coerce`); the
parameters themselves are defined per group in the sibling modules and
gathered, in display order, by :mod:`civsim.parameters.schema`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

STRANDS: dict[str, str] = {
    "outcomes": "1 Defining valued outcomes",
    "whole_systems": "2 Engaging whole systems",
    "coproduction": "3 Co-producing",
    "resilience": "4 Strengthening resilience",
    "inclusion": "5 Working inclusively",
    "cooperation": "6 Finding cooperative solutions",
    "austerity": "Austerity and demand",
    "engagement": "Engagement contagion",
    "locality": "Locality and population",
}
"""Parameter groups: the six strands of the source texts plus three
structural groups."""


class ParamError(ValueError):
    """A user-facing error about a parameter value (no traceback needed)."""


@dataclass(frozen=True)
class Param:
    """One model parameter.

    Attributes
    ----------
    name : str
        Key used in scenario files, ``--set`` overrides and experiments.
    type : str
        One of ``"float"``, ``"int"``, ``"bool"``, ``"choice"``, ``"list"`` (names),
        ``"series"`` (numbers, e.g. a yearly path) or ``"text"`` (a ``YYYY-MM`` date).
    default : Any
        Value used when nothing overrides it.
    min, max : float or None
        Inclusive range for numbers.
    unit : str
        Unit of the value, shown in tables and slider labels.
    strand : str
        Key of :data:`STRANDS` the parameter belongs to.
    help : str
        One line saying what the parameter does.
    choices : tuple of str
        Allowed values for ``"choice"`` parameters.
    structural : bool
        True when the value shapes the world (sizes, lists) rather than a
        behaviour; such parameters must be equal across runs in one batch.

    Notes
    -----
    Type ``"path"`` names a file (``""`` for none): scenario files resolve it
    relative to themselves, ``--set`` relative to the working directory (see
    :mod:`civsim.inputs`); the app shows no control for it.
    """

    name: str
    type: str
    default: Any
    min: float | None = None
    max: float | None = None
    unit: str = ""
    strand: str = "locality"
    help: str = ""
    choices: tuple[str, ...] = ()
    structural: bool = False

    def allowed(self) -> str:
        """Describe the allowed values in words, for error messages."""
        if self.type == "path":
            return "a file path (text; '' for none)"
        if self.type == "bool":
            return "true or false"
        if self.type == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.type == "list":
            return "a list of distinct names (at least 2)"
        if self.type == "series":
            return f"a list of at most {MAX_SERIES} numbers in [{_fmt(self.min)}, {_fmt(self.max)}]"
        if self.type == "text":
            return "a month as 'YYYY-MM'"
        kind = "an integer" if self.type == "int" else "a number"
        return f"{kind} in [{_fmt(self.min)}, {_fmt(self.max)}]"

    def coerce(self, value: Any) -> Any:
        """Check ``value`` against this parameter and return it normalised.

        Raises
        ------
        ParamError
            With a message naming the key, the value and what is allowed.
        """
        bad = ParamError(f"{self.name} = {value!r} is not allowed: expected {self.allowed()}")
        if self.type == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in (
                "true",
                "false",
                "1",
                "0",
                "yes",
                "no",
                "on",
                "off",
            ):
                return value.lower() in ("true", "1", "yes", "on")
            raise bad
        if self.type == "choice":
            if isinstance(value, str) and value in self.choices:
                return value
            raise bad
        if self.type == "path":
            if isinstance(value, str) and not any(ch in value for ch in "\0\n\r"):
                return value.strip()
            raise bad
        if self.type == "list":
            if (
                isinstance(value, (list, tuple))
                and len(value) >= 2
                and all(isinstance(v, str) and v for v in value)
                and len(set(value)) == len(value)
            ):
                return tuple(value)
            raise bad
        if self.type == "series":
            return self._coerce_series(value, bad)
        if self.type == "text":
            if isinstance(value, str) and _is_month(value):
                return value
            raise bad
        if isinstance(value, bool):
            raise bad
        if isinstance(value, str):
            try:
                value = float(value) if self.type == "float" else int(value, 10)
            except ValueError:
                raise bad from None
        if self.type == "int":
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if not isinstance(value, int):
                raise bad
        elif isinstance(value, (int, float)):
            value = float(value)
        else:
            raise bad
        if isinstance(value, float) and not math.isfinite(value):
            raise bad
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            raise bad
        return value

    def _coerce_series(self, value: Any, bad: ParamError) -> tuple[float, ...]:
        if isinstance(value, str):
            parts = [v.strip() for v in value.split(",") if v.strip()]
            try:
                value = [float(v) for v in parts]
            except ValueError:
                raise bad from None
        if not isinstance(value, (list, tuple)) or len(value) > MAX_SERIES:
            raise bad
        out = []
        for v in value:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise bad
            if (self.min is not None and v < self.min) or (self.max is not None and v > self.max):
                raise bad
            out.append(float(v))
        return tuple(out)


MAX_SERIES = 200
"""Longest allowed ``series`` parameter (e.g. 200 years of a budget path)."""


def _is_month(text: str) -> bool:
    """True for 'YYYY-MM' with a month 01-12."""
    if len(text) != 7 or text[4] != "-" or not (text[:4].isdigit() and text[5:].isdigit()):
        return False
    return 1 <= int(text[5:]) <= 12


def _fmt(x: float | None) -> str:
    if x is None:
        return "-inf"
    return f"{x:g}"


def define(name, type_, default, lo=None, hi=None, unit="", strand="locality", help_="", **kw) -> Param:
    """A :class:`Param` from positional fields (name, type, default, min, max, unit, strand, help)."""
    return Param(name, type_, default, lo, hi, unit, strand, help_, **kw)
