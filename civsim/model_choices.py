"""Changes to a running Mesa model: live interventions, parameters and a room's seat choices.

:class:`ModelChoices` is mixed into :class:`civsim.model.CivicModel`. Its
methods have the names and the meaning of the batch core's
(:class:`civsim.batch.BatchModel`), so a workshop room's decisions file
(:mod:`civsim.rooms.plan`) replays on either engine with the same numbers.
Each one changes state the model's rules read; none restates a rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from civsim import process, rules
from civsim.batch.core import INTERVENTIONS
from civsim.params import SCHEMA
from civsim.world import SHOCK_KINDS

if TYPE_CHECKING:
    from civsim.model import CivicModel


class ModelChoices:
    """Interventions and seat choices for :class:`~civsim.model.CivicModel` (a mixin)."""

    def set_param(self: CivicModel, name: str, value: float) -> None:
        """Set a non-structural numeric parameter from now on (``p`` and its (1,) array in ``P``)."""
        kind = SCHEMA[name].type
        self.p[name] = int(value) if kind == "int" else bool(value) if kind == "bool" else float(value)
        self.P[name] = np.full(1, float(value), dtype=self.P[name].dtype)

    def set_openness(self: CivicModel, agencies: Sequence[int], value: float) -> None:
        """Openness to co-production of some agencies."""
        for a in agencies:
            self.agency_list[a].openness = float(value)

    def intervene(self: CivicModel, name: str, value: float) -> None:
        """Change the world now, as :meth:`civsim.batch.BatchModel.intervene` does."""
        if name not in INTERVENTIONS:
            raise ValueError(f"unknown intervention {name!r}: expected one of {', '.join(INTERVENTIONS)}")
        v = float(value)
        state = self.council.state
        if name == "cut_budget":
            self.council.cut_budget(v)
        elif name.startswith("shock_"):
            kind = SHOCK_KINDS.index(name.removeprefix("shock_"))
            hit = np.ones((1, self.dims.M))
            before = self.outcomes
            self.outcomes = rules.apply_shock(self.outcomes, hit, self.world.shock_masks[kind] * v, 1.0)
            self.reference, self.aid_left = rules.after_shock(self.reference, self.aid_left, before, hit)
            self._shock_now = np.ones(1)
        elif name == "convene":
            self.set_param("convening_funds", v)
        elif name == "fund_networks":
            self.set_param("network_grants", v)
            state["grant_pool"] = state["budget"] * v / rules.MONTHS_PER_YEAR
        elif name == "open_coproduction":
            self.set_openness(range(len(self.agency_list)), v)
        self.interventions.append((self.month, name, v))
        self.agg = self.aggregates()

    def pledge_partners(self: CivicModel, agencies: Sequence[int], partners: Sequence[int]) -> None:
        """Agencies ``agencies`` name ``partners`` as coordination partners (replacing earlier names)."""
        rows = process.pledge_rows(len(self.agency_list), list(agencies), partners)
        for a, row in zip(agencies, rows, strict=True):
            self.agency_list[a].pledged = {int(b) for b in np.flatnonzero(row)}

    def set_agency_focus(self: CivicModel, agencies: Sequence[int], domain: int) -> None:
        """Agencies ``agencies`` focus their effort on ``domain`` (-1: spread over the remit)."""
        for a in agencies:
            self.agency_list[a].focus = int(domain)

    def set_campaign(self: CivicModel, hoods: Sequence[int], domain: int) -> None:
        """Networks of ``hoods`` campaign on ``domain`` from now on (-1: release; they keep their focus)."""
        self.campaign[process.hood_slots(self.world.net_hood, hoods)] = domain
        for net in self.slots:
            if net is not None:
                net.focus = int(rules.campaign_focus(net.focus, self.campaign[net.slot]))
        self.agg = self.aggregates()  # members' action is summed by their network's focus

    def pledge_allies(
        self: CivicModel, hoods: Sequence[int], agencies: Sequence[int], ally_hoods: Sequence[int]
    ) -> None:
        """Networks of ``hoods`` name the networks of ``ally_hoods`` and ``agencies`` as allies."""
        S, A = self.dims.S, self.dims.A
        rows = process.hood_slots(self.world.net_hood, hoods)
        targets = process.ally_targets(self.world.net_hood, S, agencies, ally_hoods)
        self.ally_pledge[rows, :] = process.pledge_rows(S + A, rows, targets)
