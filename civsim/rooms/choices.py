"""Seat choices that are model state rather than schema parameters.

An agency head names coordination partners and the domain its agencies put
effort into; a network organiser sets what its networks campaign for and
names allies. In the model these are pledges and foci (see
:func:`civsim.rules.next_coordination`, :func:`civsim.rules.focused_share`,
:func:`civsim.rules.campaign_focus`, :func:`civsim.rules.next_alliance`),
held by both engines; here is what a seat may choose, how a choice is
checked, described and turned into the arguments of a
:class:`civsim.rooms.plan.Change`.

A seat's value for each choice:

``agency_partners`` / ``network_allies``
    a sorted tuple of names: ``"agency 3"`` (1-based, as on screen) and, for
    allies, ``"neighbourhood 2"`` (that neighbourhood's networks);
``agency_focus`` / ``network_focus``
    a domain name, or ``""`` for none (effort spread over the remit; the
    networks keep their own focus).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from civsim.params import ParamError

AGENCY_PARTNERS = "agency_partners"
AGENCY_FOCUS = "agency_focus"
NETWORK_FOCUS = "network_focus"
NETWORK_ALLIES = "network_allies"
NAMES = (AGENCY_PARTNERS, AGENCY_FOCUS, NETWORK_FOCUS, NETWORK_ALLIES)
"""The choice levers (names used in decisions files)."""
MAX_NAMED = 40
"""At most this many partners or allies in one choice."""

Value = str | tuple[str, ...]


@dataclass(frozen=True)
class Choice:
    """One choice a seat makes: its label, what it does, and what it costs."""

    name: str
    label: str
    help: str
    cost: Callable[[Mapping[str, float], float], str]


def _partner_cost(p: Mapping[str, float], budget: float) -> str:
    c = float(p.get("coordination_cost", 0.0))
    core = float(p.get("core_commitment", 0.0))
    return (
        f"Each partnership costs staff time worth {100 * c:.0f}% of an agency's starting budget a year, "
        f"paid from what is left after core delivery ({100 * core:.0f}% of it) plus its share of the "
        "council's convening money. A named partner that cannot be paid for does not start; after cuts, "
        "ties the agency cannot pay for lapse."
    )


CHOICES: dict[str, Choice] = {
    AGENCY_PARTNERS: Choice(
        AGENCY_PARTNERS,
        "Named coordination partners",
        "Your agencies pledge to coordinate with these agencies: the tie forms as soon as both can pay "
        "for another partnership and does not fade by chance. Joined-up work pays only where remits are "
        "linked; untick a partner to drop the pledge (the tie may then lapse).",
        _partner_cost,
    ),
    AGENCY_FOCUS: Choice(
        AGENCY_FOCUS,
        "Where your agencies put their effort",
        "The domain of your remit your agencies concentrate on: it gets half of their delivery effort on "
        "top of its even share; the rest of the remit gets less. Agencies without that domain in their "
        "remit are not affected.",
        lambda p, budget: "No money: effort moves between domains; the total stays the same.",
    ),
    NETWORK_FOCUS: Choice(
        NETWORK_FOCUS,
        "What your networks campaign for",
        "The domain the networks of your neighbourhoods act and speak on, now and when new ones start "
        "there; 'as founded' leaves each network on the gap it was founded on.",
        lambda p, budget: "Members' time: the same resources go to the chosen domain instead.",
    ),
    NETWORK_ALLIES: Choice(
        NETWORK_ALLIES,
        "Named allies",
        "Your networks pledge to ally with these agencies and with the networks of these neighbourhoods: "
        "the tie forms while both exist (an agency only if your campaign is in its remit and it is open "
        "to co-production) and does not lapse while you keep the pledge.",
        lambda p, budget: (
            "No money: allies pool resources with synergy and, past the influence "
            "threshold, shift the council's agenda."
        ),
    ),
}
"""The choice levers with their help and cost text (the only place they are written)."""


@dataclass(frozen=True)
class Locality:
    """What checking a choice needs to know about a room's locality."""

    domains: tuple[str, ...]
    n_agencies: int
    n_hoods: int
    remit: np.ndarray  # (A, K) 0/1: which domains each agency works on


def initial(name: str) -> Value:
    """A seat's choice before it chooses: no one named, no focus."""
    return "" if name in (AGENCY_FOCUS, NETWORK_FOCUS) else ()


def options(seat: Any, name: str, loc: Locality) -> list[str]:
    """What a seat may choose from (domains, or names of agencies and neighbourhoods)."""
    if name == AGENCY_FOCUS:
        covered = loc.remit[list(seat.agencies)].sum(axis=0) > 0 if seat.agencies else []
        return [d for d, c in zip(loc.domains, covered, strict=False) if c]
    if name == NETWORK_FOCUS:
        return list(loc.domains)
    agencies = [f"agency {a + 1}" for a in range(loc.n_agencies)]
    if name == AGENCY_PARTNERS:
        return agencies
    return agencies + [f"neighbourhood {m + 1}" for m in range(loc.n_hoods)]


def validate(seat: Any, name: str, value: Any, loc: Locality) -> Value:
    """Check one choice of ``seat``; returns it normalised.

    Raises
    ------
    ParamError
        One line naming the choice, the value and what is allowed.
    """
    allowed = options(seat, name, loc)
    if name in (AGENCY_FOCUS, NETWORK_FOCUS):
        if value == "" or value is None:
            return ""
        if isinstance(value, str) and value in allowed:
            return value
        raise ParamError(
            f"{name} = {str(value)[:40]!r} is not allowed: expected one of {', '.join(allowed)} or ''"
        )
    if isinstance(value, str) or not isinstance(value, list | tuple) or len(value) > MAX_NAMED:
        raise ParamError(
            f"{name} = {str(value)[:40]!r} is not allowed: expected a list of names like 'agency 3'"
        )
    for v in value:
        if not isinstance(v, str) or v not in allowed:
            lo, hi = allowed[0], allowed[-1]
            raise ParamError(f"{name}: {str(v)[:40]!r} is not allowed: expected names from {lo!r} to {hi!r}")
    return tuple(sorted(set(value), key=_order))


def _order(label: str) -> tuple[str, int]:
    kind, num = label.rsplit(" ", 1)
    return kind, int(num)


def numbers(value: Value, kind: str) -> tuple[int, ...]:
    """0-based indices of the names of one kind (``"agency"`` or ``"neighbourhood"``) in a choice."""
    out = []
    for v in value:
        m = re.fullmatch(rf"{kind} (\d+)", v)
        if m:
            out.append(int(m.group(1)) - 1)
    return tuple(out)


def change_fields(seat: Any, name: str, value: Value, domains: tuple[str, ...]) -> dict[str, Any]:
    """The fields of the :class:`~civsim.rooms.plan.Change` a seat's choice makes (for its own part)."""
    if name == AGENCY_PARTNERS:
        return {"value": 0.0, "agencies": seat.agencies, "partners": numbers(value, "agency")}
    if name == AGENCY_FOCUS:
        return {"value": float(domains.index(value)) if value else -1.0, "agencies": seat.agencies}
    if name == NETWORK_FOCUS:
        return {"value": float(domains.index(value)) if value else -1.0, "hoods": seat.hoods}
    return {
        "value": 0.0,
        "hoods": seat.hoods,
        "partners": numbers(value, "agency"),
        "ally_hoods": numbers(value, "neighbourhood"),
    }


def describe(name: str, value: Any) -> str:
    """A choice in words, for stories and the debrief."""
    if name in (AGENCY_FOCUS, NETWORK_FOCUS):
        return (
            str(value) if value else ("effort over the whole remit" if name == AGENCY_FOCUS else "as founded")
        )
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "none"
    return f"{value:g}" if isinstance(value, float | int) else str(value)


__all__ = [
    "AGENCY_FOCUS",
    "AGENCY_PARTNERS",
    "CHOICES",
    "NAMES",
    "NETWORK_ALLIES",
    "NETWORK_FOCUS",
    "Choice",
    "Locality",
    "change_fields",
    "describe",
    "initial",
    "numbers",
    "options",
    "validate",
]
