"""Networks and alliances of the Mesa model: which networks open, close and ally next month.

:class:`ModelNetworks` is mixed into :class:`civsim.model.CivicModel`; its
methods decide on the state at t (in the documented draw order, the batch
core's ``MonthlyStep._networks`` and ``_next_alliances``) and apply the
decisions at the end of the month. Every rule is called from :mod:`civsim.rules`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from civsim import process, rules
from civsim.agents import Network

if TYPE_CHECKING:
    from civsim.model import CivicModel


class ModelNetworks:
    """Founding, scaling, dissolving and allying for :class:`~civsim.model.CivicModel` (a mixin)."""

    def available_networks(self: CivicModel) -> list[list[int]]:
        """Slots a citizen of each neighbourhood can join: alive and not dissolving, in slot order."""
        out: list[list[int]] = [[] for _ in range(self.dims.M)]
        for net in self.slots:
            if net is not None and not net.dissolving:
                out[net.hood].append(net.slot)
        return out

    def found_and_scale(self: CivicModel) -> tuple[np.ndarray, np.ndarray]:
        """Where new networks open next month (rules.claim_slots)."""
        alive, focus, _, _ = self.network_arrays()
        dissolving = np.array([n is not None and n.dissolving for n in self.slots], dtype=bool)
        wants = np.array([n is not None and n.wants_to_scale for n in self.slots], dtype=bool)
        founders = rules.founds_network(
            self.draws["found"],
            self.agg["unaffiliated_engaged_hood"][0],
            rules.NETWORK_FOUND_SIZE,
            bool(self.p["networks_enabled"]),
        )
        focus_h = process.hood_focus(self.voice_cell, self.outcomes, self.pop)[0]
        new_focus, parent = rules.claim_slots(
            alive[0], self.world.net_hood, dissolving, founders, focus_h, wants, focus[0]
        )
        return np.where(new_focus >= 0, rules.campaign_focus(new_focus, self.campaign), -1), parent

    def apply_networks(self: CivicModel, new: tuple[np.ndarray, np.ndarray]) -> None:
        """Open founded and seeded networks; remove dissolved ones."""
        new_focus, parent = new
        for s in np.flatnonzero(new_focus >= 0):
            self.slots[s] = Network(
                self,
                int(s),
                int(self.world.net_hood[s]),
                int(new_focus[s]),
                0.0,
                rules.NEW_NETWORK_COHESION,
                0,
            )
        for s in np.flatnonzero(parent >= 0):
            donor = self.slots[parent[s]]
            self.slots[s].resources, donor.resources = rules.scaling_gift(donor.resources)
        for s, net in enumerate(self.slots):
            if net is not None and net.dissolving:
                for other in net.allies:
                    other.allies.discard(net)
                net.remove()
                self.slots[s] = None

    def decide_alliances(self: CivicModel) -> list[tuple[mesa.Agent, mesa.Agent]]:
        """Alliance ties at t+1, pair by pair in the documented draw order."""
        p, S = self.p, self.dims.S
        u = self.draws["alliance"]
        C = self.world.cross_impact
        live = [n if (n is not None and not n.dissolving) else None for n in self.slots]
        ties = []
        k = 0
        for i in range(S):
            for j in range(i + 1, S):
                a, b = live[i], live[j]
                if a is not None and b is not None:
                    aff = rules.network_affinity(a.focus, b.focus, C, a.cohesion, b.cohesion)
                    if rules.next_alliance(
                        b in a.allies,
                        aff,
                        u[k],
                        p["alliance_propensity"],
                        p["alliance_decay"],
                        bool(p["alliances_enabled"]),
                        self.ally_pledge[i, j] | self.ally_pledge[j, i],
                    ):
                        ties.append((a, b))
                k += 1
        hood_trust = self.agg["hood_trust"][0]
        for i in range(S):
            for ag in self.agency_list:
                net = live[i]
                if net is not None:
                    aff = rules.agency_network_affinity(
                        ag.remit[net.focus], ag.openness, hood_trust[net.hood]
                    )
                    if rules.next_alliance(
                        ag in net.allies,
                        aff,
                        u[k],
                        p["alliance_propensity"],
                        p["alliance_decay"],
                        bool(p["alliances_enabled"]),
                        self.ally_pledge[i, S + ag.index] | self.ally_pledge[S + ag.index, i],
                    ):
                        ties.append((net, ag))
                k += 1
        return ties

    def apply_alliances(self: CivicModel, ties: list[tuple[mesa.Agent, mesa.Agent]]) -> None:
        """Replace every alliance tie with the decided ones."""
        for net in self.networks():
            net.allies = set()
        for ag in self.agency_list:
            ag.allies = set()
        for a, b in ties:
            a.allies.add(b)
            b.allies.add(a)
