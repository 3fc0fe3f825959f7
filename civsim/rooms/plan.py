"""Decisions as changes to a running model (the file that replays them: civsim.rooms.decisions_file).

A room turns each round's seat decisions into :class:`Change` records (which
lever, what value, from which month, for which agencies). The same
:func:`apply_change` puts them into a :class:`civsim.batch.BatchModel` in a
live room, in a replay with other seeds and in ``civsim run --decisions``, so
a session is reproduced by one code path. A change is applied through the
schema's parameters (``model.P``) and the model's own interventions
(``model.intervene``): nothing here restates a rule of the model.

The decisions file is TOML::

    # civsim decisions
    format = 1
    [[seat]]            # who sat where (for the debrief; not needed to replay)
    id = "council"
    title = "Council leader"
    [[decision]]        # what each seat chose, round by round
    round = 1
    month = 0
    seat = "council"
    lever = "convening_funds"
    value = 0.05
    [[change]]          # what the model got: applied before the step of `month`
    month = 0
    lever = "convening_funds"
    value = 0.05
    agencies = []       # empty: everywhere; else only these agencies (0-based)

Seat choices that are not schema parameters (:mod:`civsim.rooms.choices`)
are ``[[change]]`` rows with their own keys instead of ``value`` (numbers
0-based, domains by name; ``""`` for no focus)::

    lever = "agency_partners"   # these agencies pledge to coordinate with those
    agencies = [0, 4]
    partners = [2, 7]           # [] withdraws their pledges
    lever = "agency_focus"      # these agencies focus their effort on a remit domain
    agencies = [0, 4]
    domain = "health"
    lever = "network_focus"     # networks of these neighbourhoods campaign on a domain
    neighbourhoods = [0, 3]
    domain = "housing"
    lever = "network_allies"    # networks of these neighbourhoods pledge alliances
    neighbourhoods = [0, 3]
    ally_agencies = [5]
    ally_neighbourhoods = [1]

Both engines replay a file (``civsim run --decisions``, Mesa or batch) with the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from civsim.rooms import choices

INTERVENTION_FOR: dict[str, str] = {"convening_funds": "convene", "network_grants": "fund_networks"}
"""Levers the batch core already has a live intervention for (it also keeps its log)."""

PER_AGENCY: dict[str, str] = {"coproduction_openness": "openness"}
"""Levers with one value per agency in the running model (the model attribute)."""


@dataclass(frozen=True)
class Change:
    """Set ``lever`` to ``value`` before the step of ``month`` (only for ``agencies`` if given)."""

    month: int
    lever: str
    value: float  # for a focus: the domain's index, -1 none
    agencies: tuple[int, ...] = ()
    seat: str = ""
    hoods: tuple[int, ...] = ()  # the networks of these neighbourhoods act (network choices)
    partners: tuple[int, ...] = ()  # agencies named as partners or allies
    ally_hoods: tuple[int, ...] = ()  # neighbourhoods whose networks are named as allies


@dataclass(frozen=True)
class Decision:
    """What one seat chose for one lever in one round."""

    round: int
    month: int
    seat: str
    lever: str
    value: Any  # a number, or a seat choice (civsim.rooms.choices)


def apply_change(model: Any, change: Change) -> None:
    """Apply one change to a running model: a :class:`~civsim.batch.BatchModel` (every run) or a Mesa one.

    Convening and grants go through ``model.intervene`` (as the Workshop's
    buttons do); openness for some agencies writes those agencies' openness
    (as the ``open_coproduction`` intervention does for all); seat choices
    call the engines' own methods (``pledge_partners``, ``set_agency_focus``,
    ``set_campaign``, ``pledge_allies``); every other lever sets the schema
    parameter, which the engines read at each step.
    """
    value = float(change.value)
    if change.lever in choices.NAMES:
        _apply_choice(model, change)
        return
    if hasattr(model, "agency_list"):  # the Mesa engine (civsim.model_choices)
        if change.lever in PER_AGENCY and change.agencies:
            model.set_openness(change.agencies, value)
        elif change.lever in PER_AGENCY:
            model.intervene("open_coproduction", value)
            model.set_param(change.lever, value)
        elif change.lever in INTERVENTION_FOR:
            model.intervene(INTERVENTION_FOR[change.lever], value)
        else:
            model.set_param(change.lever, value)
        return
    if change.lever in PER_AGENCY and change.agencies:
        arr = getattr(model, PER_AGENCY[change.lever])
        arr[:, list(change.agencies)] = value  # in place: the model's agency table shares this array
        return
    if change.lever == "coproduction_openness":
        model.intervene("open_coproduction", value)
        model.P[change.lever] = np.full(model.B, value)
        return
    if change.lever in INTERVENTION_FOR:
        model.intervene(INTERVENTION_FOR[change.lever], value)
        return
    model.P[change.lever] = np.full(model.B, value, dtype=model.P[change.lever].dtype)


def _apply_choice(model: Any, c: Change) -> None:
    domain = int(c.value)
    if c.lever == choices.AGENCY_PARTNERS:
        model.pledge_partners(list(c.agencies), list(c.partners))
    elif c.lever == choices.AGENCY_FOCUS:
        model.set_agency_focus(list(c.agencies), domain)
    elif c.lever == choices.NETWORK_FOCUS:
        model.set_campaign(list(c.hoods), domain)
    else:
        model.pledge_allies(list(c.hoods), list(c.partners), list(c.ally_hoods))


def apply_due(model: Any, changes: Iterable[Change]) -> int:
    """Apply the changes due at ``model.month`` (in file order); return how many."""
    n = 0
    for ch in changes:
        if ch.month == model.month:
            apply_change(model, ch)
            n += 1
    return n


class Plan:
    """Changes by month, as a ``before_step`` hook for :func:`civsim.simulate.simulate`."""

    def __init__(self, changes: Iterable[Change]):
        self.changes = list(changes)

    def __call__(self, model: Any) -> None:
        apply_due(model, self.changes)

    @property
    def last_month(self) -> int:
        return max((c.month for c in self.changes), default=-1)


def __getattr__(name: str) -> Any:
    """The file's reader and writer live in :mod:`civsim.rooms.decisions_file` (importable here too)."""
    if name in ("FORMAT", "decisions_toml", "load_decisions", "parse_decisions"):
        from civsim.rooms import decisions_file

        return getattr(decisions_file, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Change",
    "Decision",
    "Plan",
    "apply_change",
    "apply_due",
]
