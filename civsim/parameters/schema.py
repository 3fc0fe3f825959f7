"""The schema: every parameter in display order, defaults, checks and resolution.

Order matters: documentation, the app's controls and run hashes follow it.
"""

from __future__ import annotations

import difflib
from typing import Any

from civsim.parameters.austerity import AUSTERITY
from civsim.parameters.cooperation import COOPERATION
from civsim.parameters.coproduction import COPRODUCTION
from civsim.parameters.engagement import COMPLETE_MAX_CITIZENS, ENGAGEMENT
from civsim.parameters.inclusion import INCLUSION
from civsim.parameters.locality import LOCALITY
from civsim.parameters.outcomes import VALUED_OUTCOMES
from civsim.parameters.param import Param, ParamError
from civsim.parameters.resilience import RESILIENCE
from civsim.parameters.whole_systems import WHOLE_SYSTEMS

_PARAMS: list[Param] = [
    *LOCALITY,
    *AUSTERITY,
    *VALUED_OUTCOMES,
    *WHOLE_SYSTEMS,
    *COPRODUCTION,
    *ENGAGEMENT,
    *INCLUSION,
    *RESILIENCE,
    *COOPERATION,
]

SCHEMA: dict[str, Param] = {p.name: p for p in _PARAMS}
"""All parameters by name, in display order."""


def defaults() -> dict[str, Any]:
    """Return a fresh dict of every parameter's default value."""
    return {name: p.default for name, p in SCHEMA.items()}


def suggest(name: str) -> str:
    """Return a ``did you mean`` hint for an unknown key, or ''."""
    close = difflib.get_close_matches(name, list(SCHEMA), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check(name: str, value: Any) -> Any:
    """Validate one ``name = value`` pair and return the normalised value.

    Raises
    ------
    ParamError
        For an unknown key (with a did-you-mean hint) or a bad value.
    """
    if name not in SCHEMA:
        raise ParamError(f"unknown parameter {name!r}{suggest(name)}; run `civsim params` to list them")
    return SCHEMA[name].coerce(value)


def resolve(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return defaults updated with validated ``overrides``.

    Also checks rules that involve several parameters.
    """
    out = defaults()
    for key, value in (overrides or {}).items():
        out[key] = check(key, value)
    if out["voice_weight"] + out["need_weight"] > 1.0 + 1e-12:
        raise ParamError(
            f"voice_weight + need_weight = {out['voice_weight'] + out['need_weight']:g} is not allowed: "
            "their sum must be at most 1 (the rest is the council's own view)"
        )
    _check_sources(out)
    return out


def _check_sources(p: dict[str, Any]) -> None:
    """Rules linking threshold_distribution / network to their files and sizes."""
    for choice, key in (("threshold_distribution", "threshold_file"), ("network", "edge_file")):
        if p[choice] == "file" and not p[key]:
            raise ParamError(
                f"{choice} = 'file' needs {key}: give {key} = \"<a CSV file>\" ({SCHEMA[key].help})"
            )
    if p["network"] == "complete" and p["n_citizens"] > COMPLETE_MAX_CITIZENS:
        raise ParamError(
            f"network = 'complete' with n_citizens = {p['n_citizens']} is not allowed: a complete graph "
            f"needs n_citizens <= {COMPLETE_MAX_CITIZENS} (use network = 'random' with a large mean_degree)"
        )
