"""The Mesa agents: Citizen, Network, Agency and Council.

Each agent decides on the state at t (``decide``) and applies its decision
afterwards (``advance``), so updates are synchronous. Every decision is a
call into :mod:`civsim.rules` on the agent's own scalars; the uniforms come
from the model's per-step draws (``model.draws``), indexed by the agent's
position, so the batch core can reproduce them exactly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from civsim import process, rules

if TYPE_CHECKING:
    from civsim.model import CivicModel


class Citizen(mesa.Agent):
    """A resident: engages or not, trusts institutions more or less, may join a network."""

    def __init__(
        self,
        model: CivicModel,
        index: int,
        hood: int,
        group: int,
        capacity: float,
        threshold: float,
        trust: float,
        engaged: bool,
        member: int,
        vtype: int,
    ) -> None:
        super().__init__(model)
        self.index = index
        self.vtype = vtype
        self.hood = hood
        self.group = group
        self.capacity = capacity
        self.threshold = threshold
        self.trust = trust
        self.engaged = engaged
        self.member = member
        self.ties: list[Citizen] = []
        self._next: tuple[bool, float, int] | None = None

    def network(self) -> Network | None:
        """The network this citizen belongs to, if any."""
        return self.model.slots[self.member] if self.member >= 0 else None

    def decide(self) -> None:
        """Decide engagement, trust and membership for t+1 from the state at t."""
        m, p, ctx = self.model, self.model.p, self.model.ctx
        u_engage = m.draws["engage"][self.index]
        u_join = m.draws["join"][self.index]
        net = self.network()
        cohesion = net.cohesion if net is not None else 0.0
        count = sum(1 for t in self.ties if t.engaged)
        frac = rules.tie_share(np.float64(count), np.float64(len(self.ties)))
        push = rules.engagement_push(
            frac, self.capacity, self.trust, cohesion, p["contagion_weight"], p["trust_engagement_weight"]
        )
        thr = rules.effective_threshold(
            self.threshold, self.group > 0, p["participation_barrier"], p["outreach"]
        )
        burn = rules.burnout_probability(
            p["burnout_rate"] + ctx["strain"][0, self.hood], self.capacity, cohesion
        )
        contact = rules.contact_probability(
            p["outreach"], p["spontaneous_rate"], self.capacity, self.group > 0, p["participation_barrier"]
        )
        engaged = bool(rules.next_engaged(np.bool_(self.engaged), push, thr, u_engage, burn, contact))

        target = rules.trust_target(
            ctx["match"][0, self.hood, self.group],
            ctx["trend"][0, self.hood, self.group],
            m.council.state["budget_change"][0],
            p["trust_cut_sensitivity"],
        )
        trust = float(rules.next_trust(self.trust, target, p["trust_rate"]))

        if net is not None:
            stays = rules.keeps_membership(np.True_, np.bool_(self.engaged), np.bool_(net.dissolving))
            member = self.member if stays else -1
        elif self.engaged:
            options, cum = ctx["available"][self.hood], ctx["join_weight"][self.hood]
            pick = int(rules.join_choice(u_join, p["join_rate"] * float(p["networks_enabled"]), cum))
            member = options[pick] if pick >= 0 else -1
        else:
            member = -1
        self._next = (engaged, trust, member)

    def advance(self) -> None:
        """Apply the decision made in :meth:`decide`."""
        self.engaged, self.trust, self.member = self._next


class Network(mesa.Agent):
    """A citizen group or network: recruits, acts on its focus, allies, scales across, dissolves."""

    def __init__(
        self, model: CivicModel, slot: int, hood: int, focus: int, resources: float, cohesion: float, age: int
    ) -> None:
        super().__init__(model)
        self.slot = slot
        self.hood = hood
        self.focus = focus
        self.resources = resources
        self.cohesion = cohesion
        self.age = age
        self.allies: set[mesa.Agent] = set()
        self.dissolving = False
        self.wants_to_scale = False
        self._next: tuple[float, float, int] | None = None

    def multiplier(self) -> float:
        """Pooled effect of its action: cohesion and allies (rules.pooled_multiplier)."""
        return rules.pooled_multiplier(self.cohesion, len(self.allies), self.model.p["alliance_synergy"])

    def assess(self) -> None:
        """Decide whether it dissolves or seeds a sister network (state at t)."""
        m, p, agg = self.model, self.model.p, self.model.agg
        members = agg["members"][0, self.slot]
        self.dissolving = bool(rules.network_dissolves(True, members, self.age, p["network_min_members"]))
        self.wants_to_scale = bool(
            rules.network_wants_to_scale(
                np.True_,
                np.bool_(self.dissolving),
                members,
                self.cohesion,
                rules.NETWORK_FOUND_SIZE,
                m.draws["scale"][self.slot],
                rules.SCALING_RATE,
            )
        )

    def decide(self) -> None:
        """Resources, cohesion and age at t+1."""
        p, agg, ctx = self.model.p, self.model.agg, self.model.ctx
        members = agg["members"][0, self.slot]
        resources = rules.network_resources(
            self.resources,
            agg["member_capacity"][0, self.slot],
            ctx["grants"][0, self.slot],
            p["network_dues"],
        )
        cohesion = rules.network_cohesion(self.cohesion, ctx["member_trust_mean"][0, self.slot], members > 0)
        self._next = (float(resources), float(cohesion), self.age + 1)

    def advance(self) -> None:
        """Apply the decision made in :meth:`decide`."""
        self.resources, self.cohesion, self.age = self._next


class Agency(mesa.Agent):
    """A public body, NGO, voluntary association or business with a remit and a budget."""

    def __init__(
        self,
        model: CivicModel,
        index: int,
        sector: int,
        remit: np.ndarray,
        efficiency: float,
        openness: float,
        historic: float,
        protected_eligible: float,
    ) -> None:
        super().__init__(model)
        self.index = index
        self.sector = sector
        self.remit = remit
        self.remit_share = remit / remit.sum()
        self.efficiency = efficiency
        self.openness = openness
        self.historic = historic
        self.protected_eligible = protected_eligible
        self.budget = 0.0
        self.budget0 = 0.0
        self.own_income = 0.0
        self.partners: set[Agency] = set()
        self.allies: set[Network] = set()
        self.pledged: set[int] = set()  # agencies it named as partners (a room's agency head)
        self.focus = -1  # remit domain it focuses its effort on (-1: spread over the remit)
        self._next_partners: set[Agency] = set()

    def decide_ties(self) -> None:
        """Keep, drop or form coordination ties with every agency of higher index."""
        m, p = self.model, self.model.p
        A = len(m.agency_list)
        over, room = m.ctx["coord_over"][0], m.ctx["coord_room"][0]
        for other in m.agency_list[self.index + 1 :]:
            pair = m.pair_index(self.index, other.index, A)
            tied = other in self.partners
            keep = rules.next_coordination(
                tied,
                m.link[self.index, other.index],
                m.draws["coordination"][pair],
                rules.COORDINATION_PROPENSITY,
                p["convening_funds"],
                max(over[self.index], over[other.index]),
                room[self.index] * room[other.index],
                p["coordination_decay"],
                bool(p["coordination_enabled"]),
                other.index in self.pledged or self.index in other.pledged,
            )
            if keep:
                self._next_partners.add(other)
                other._next_partners.add(self)

    def contracted_openness(self) -> float:
        """Openness after the council's social-value clauses (rules.contracted_openness)."""
        return float(
            rules.contracted_openness(
                self.openness, self.model.p["social_value_weight"], self.budget, self.own_income
            )
        )

    def delivery(self) -> np.ndarray:
        """Effort this month in each domain, after transaction costs, with joined-up spill-over."""
        p = self.model.p
        n = float(len(self.partners))
        effort = rules.agency_effort(
            self.budget / rules.MONTHS_PER_YEAR,
            self.budget0 / rules.MONTHS_PER_YEAR,
            self.efficiency,
            n,
            p["coordination_cost"],
            self.contracted_openness(),
            self.model.council.state["convening"][0] / len(self.model.agency_list) / rules.MONTHS_PER_YEAR,
        )
        partner = sum(
            (a.remit_share for a in sorted(self.partners, key=lambda a: a.index)),
            np.zeros_like(self.remit_share),
        )
        partner = partner / max(n, 1.0)
        frac = n / max(len(self.model.agency_list) - 1, 1)
        return rules.domain_effort(
            np.array([effort]),
            rules.focused_share(self.remit_share, self.focus)[None, :],
            partner[None, :],
            np.array([frac]),
            self.model.world.cross_impact,
            p["coordination_benefit"] * p["interdependence"],
        )[0]

    def advance(self) -> None:
        """Apply the coordination decisions."""
        self.partners, self._next_partners = self._next_partners, set()


class Council(mesa.Agent):
    """The local council: budget (the austerity path), priorities, commissioning, convening and grants."""

    def __init__(self, model: CivicModel) -> None:
        super().__init__(model)
        P = model.P
        budget0 = P["council_budget"].copy()
        self.state: dict[str, np.ndarray] = {
            "budget0": budget0,
            "budget": budget0.copy(),
            "shock_factor": np.ones(1),
            "budget_change": np.zeros(1),
            "weights": model.world.own_view[None].copy(),
            "own": model.world.own_view[None].copy(),
            "service0": budget0 * process.service_share(P),
            "convening": np.zeros(1),
            "grant_pool": np.zeros(1),
            "care": np.zeros(1),
            "services": np.zeros(1),
        }

    @property
    def weights(self) -> np.ndarray:
        """The valued-outcomes framework: priority weights over domains."""
        return self.state["weights"][0]

    def yearly_cycle(self, year: int, first: bool) -> None:
        """Revise priorities (after the first cycle), then set the budget and commission agencies."""
        m = self.model
        need = process.need_by_domain(m.outcomes, m.pop_share)
        if not first:
            agg = m.agg
            voice = process.voice_by_domain(m.voice_cell)
            alive, focus, _, _ = m.network_arrays()
            allied = process.allied_by_domain(
                m.alliance_matrix(), alive, focus, agg["members"], m.dims.N, m.dims.K
            )
            process.revise_agenda(m.P, self.state, need, voice, allied)
        ag = m.agency_arrays()
        process.yearly_budget(m.P, year, first, self.state, ag, need)
        for a in m.agency_list:
            a.budget = float(ag["budget"][0, a.index])
            if first:
                a.budget0 = float(ag["budget0"][0, a.index])
                a.own_income = float(ag["own_income"][0, a.index])

    def cut_budget(self, share: float) -> None:
        """A budget shock or cut of ``share`` now: council and agencies alike, persisting."""
        budgets = process.cut_budget(self.state, self.model.agency_arrays()["budget"], np.array([share]))
        for a in self.model.agency_list:
            a.budget = float(budgets[0, a.index])
