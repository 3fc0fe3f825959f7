"""One month of the batch core, phase by phase (the order of the ODD's schedule, section 3).

:class:`MonthlyStep` is mixed into :class:`civsim.batch.core.BatchModel`: the
state lives there, and each phase here decides on the state at t through
:mod:`civsim.rules` and :mod:`civsim.process` (the functions the Mesa
engine's agents call); the new state is applied at the end of the month, so
updates are synchronous.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from civsim import kernels, process, rules
from civsim.batch.parallel import Overlap
from civsim.batch.structures import count_tie_changes, with_no_network
from civsim.process import col
from civsim.world import SHOCK_KINDS


class MonthlyStep:
    """The month's phases of :class:`~civsim.batch.core.BatchModel` (a mixin: it holds no state)."""

    B: int
    P: dict[str, np.ndarray]
    dims: Any
    month: int
    _cache: dict[str, Any]

    def _step(self, record: bool, overlap: Overlap | None = None) -> None:
        t = self.month
        U = self._draws.draw(self.rngs, self.threads)
        agg, outcomes_t = self._agg, self.outcomes
        voice_at_t = _Lazy(
            lambda: process.voice_cells(
                self.profiles, outcomes_t, self.P["priority_focus"], agg["voice_type"]
            )
        )
        self._council_year(t, voice_at_t)
        shock_now = self._shocks(t, U)

        ctx = process.cell_context(
            self.outcomes, self.council["weights"], self.P["priority_focus"], self.values
        )
        link = process.hood_links(self.ally, self.net_hood, self.dims.M)
        aid, strain = process.aid_rates(self.P, agg["engaged_cell"], self.pop, link, self.aid_left)

        dissolving = rules.network_dissolves(
            self.alive, agg["members"], self.net_age, col(self.P["network_min_members"], 2)
        )
        avail = self.alive & ~dissolving
        citizens = self._citizens(U, ctx, strain, dissolving, avail, overlap)
        networks = self._networks(U, dissolving, avail, voice_at_t)
        coord_next, domain, open_c = self._agencies(U)
        ally_next = self._next_alliances(U["alliance"], avail, agg["hood_trust"])
        out_next = self._outcomes(t, ctx, domain, open_c, aid)

        # Apply
        self.engaged, self.trust, self.member = citizens
        self.alive, self.net_focus, self.net_resources, self.net_cohesion, self.net_age = networks
        self.coord = coord_next
        self.ally = ally_next
        self.outcomes = out_next
        self.trend = rules.next_trend(self.trend, ctx["index"])
        self.spend = self.spend + self.council["budget"] / rules.MONTHS_PER_YEAR
        self.month = t + 1
        self._shock_now = shock_now
        if record:
            self._record(overlap)
        else:
            self._agg = self._aggregates(overlap)
        self._shock_now = np.zeros(self.B)

    def _council_year(self, t: int, voice_at_t: Callable[[], np.ndarray]) -> None:
        """The council's yearly cycle: revise the agenda (not in the first month), then set the budget."""
        P, c, agg = self.P, self.council, self._agg
        first = t == self._first_month
        if t % rules.MONTHS_PER_YEAR == 0 or first:
            need_k = process.need_by_domain(self.outcomes, self.pop_share)
            if not first:
                voice = process.voice_by_domain(voice_at_t())
                allied = process.allied_by_domain(
                    self.ally, self.alive, self.net_focus, agg["members"], self.dims.N, self.dims.K
                )
                process.revise_agenda(P, c, need_k, voice, allied)
            process.yearly_budget(P, max(t, 0) // rules.MONTHS_PER_YEAR, first, c, self.agencies, need_k)

    def _shocks(self, t: int, U: dict[str, np.ndarray]) -> np.ndarray:
        """This month's shocks hit outcomes (and budgets); returns the shock flag to record (B,)."""
        P, c, ag = self.P, self.council, self.agencies
        occurred, kind, hit = process.shock_hits(P, t, U["shock"])
        mask = self.shock_masks[kind] * col(P["shock_size"], 2)
        before = self.outcomes
        self.outcomes = rules.apply_shock(self.outcomes, hit, mask[:, None, None, :], 1.0)
        self.reference, self.aid_left = rules.after_shock(self.reference, self.aid_left, before, hit)
        budget_hit = occurred & (kind == SHOCK_KINDS.index("budget"))
        if budget_hit.any():
            ag["budget"] = process.cut_budget(c, ag["budget"], np.where(budget_hit, P["shock_size"], 0.0))
        return np.maximum(occurred.astype(float), self._shock_now)

    def _citizens(
        self,
        U: dict[str, np.ndarray],
        ctx: dict[str, np.ndarray],
        strain: np.ndarray,
        dissolving: np.ndarray,
        avail: np.ndarray,
        overlap: Overlap | None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Engagement, trust and membership at t+1 (one compiled pass), then the joiners' networks."""
        P, c, B, N = self.P, self.council, self.B, self.dims.N
        eng = self.engaged
        thr = self._per_citizen(
            "threshold",
            ("participation_barrier", "outreach"),
            lambda: rules.effective_threshold(
                self.threshold, self.marginalised, col(P["participation_barrier"], 2), col(P["outreach"], 2)
            ),
        )
        contact = self._per_citizen(
            "contact",
            ("outreach", "spontaneous_rate", "participation_barrier"),
            lambda: rules.contact_probability(
                col(P["outreach"], 2),
                col(P["spontaneous_rate"], 2),
                self.capacity,
                self.marginalised,
                col(P["participation_barrier"], 2),
            ),
        )
        # the trust target depends on a citizen only through their cell
        target = rules.trust_target(
            ctx["match"],
            ctx["index"] - self.trend,
            col(c["budget_change"], 3),
            col(P["trust_cut_sensitivity"], 3),
        )
        target_cell = np.repeat(target[..., None], 2, axis=-1)
        join_rate = P["join_rate"] * P["networks_enabled"]
        engaged_next, trust_next, member_next, joining = kernels.citizen_decisions(
            self.engaged_ties.ravel(),
            self.degree.ravel(),
            self.capacity.ravel(),
            self.trust.ravel(),
            eng.ravel(),
            self.member.ravel(),
            thr.ravel(),
            contact.ravel(),
            U["engage"].ravel(),
            self._local["cell"].ravel(),
            with_no_network(self.net_cohesion),
            with_no_network(dissolving),
            target_cell.ravel(),
            P["contagion_weight"],
            P["trust_engagement_weight"],
            (col(P["burnout_rate"], 2) + strain).ravel(),
            self._local["hood"],
            P["trust_rate"],
            U["join"].ravel(),
            join_rate,
            N,
        )
        count_tie_changes(self.ties, eng, engaged_next, self.engaged_ties, N, overlap)
        self._join(U, joining, join_rate, avail, member_next)
        return engaged_next.reshape(B, N), trust_next.reshape(B, N), member_next.reshape(B, N)

    def _join(
        self,
        U: dict[str, np.ndarray],
        joining: np.ndarray,
        join_rate: np.ndarray,
        avail: np.ndarray,
        member_next: np.ndarray,
    ) -> None:
        """Joiners pick one of their neighbourhood's open networks, weighted by its members + 1 (in place)."""
        B, N, M, S = self.B, self.dims.N, self.dims.M, self.dims.S
        members = self._agg["members"]
        per_hood = S // M if M else 0
        avail_h = avail.reshape(B, M, per_hood)
        rank = np.cumsum(avail_h, axis=2) - 1
        table = np.full((B, M, max(per_hood, 1)), -1, dtype=np.int64)
        weight = np.zeros((B, M, max(per_hood, 1)))
        bb, mm, jj = np.nonzero(avail_h)
        table[bb, mm, rank[bb, mm, jj]] = mm * per_hood + jj
        weight[bb, mm, rank[bb, mm, jj]] = members.reshape(B, M, per_hood)[bb, mm, jj] + 1.0
        n_avail = avail_h.sum(axis=2)
        cum = np.where(np.arange(weight.shape[2]) < n_avail[..., None], np.cumsum(weight, axis=2), np.inf)
        joiners = np.flatnonzero(joining)
        hood_of = self.hood_index.ravel()[joiners]
        choice = rules.join_choice(
            U["join"].ravel()[joiners], join_rate[joiners // N], cum.reshape(B * M, -1)[hood_of]
        )
        member_next[joiners] = np.where(
            choice >= 0, table.ravel()[hood_of * table.shape[2] + np.maximum(choice, 0)], -1
        )

    def _networks(
        self,
        U: dict[str, np.ndarray],
        dissolving: np.ndarray,
        avail: np.ndarray,
        voice_at_t: Callable[[], np.ndarray],
    ) -> tuple[np.ndarray, ...]:
        """Networks at t+1: resources, cohesion, age, founding, scaling across and dissolution.

        Returns ``alive, focus, resources, cohesion, age`` (B, S).
        """
        P, c, agg, B, M = self.P, self.council, self._agg, self.B, self.dims.M
        members = agg["members"]
        grant = process.network_grants(c["grant_pool"], self.dims.N, members)
        res_next = np.where(
            self.alive,
            rules.network_resources(
                self.net_resources, agg["member_capacity"], grant, col(P["network_dues"], 2)
            ),
            0.0,
        )
        trust_mean = process.member_trust_mean(agg["member_trust"], members)
        coh_next = np.where(
            self.alive, rules.network_cohesion(self.net_cohesion, trust_mean, members > 0), 0.0
        )
        age_next = np.where(self.alive, self.net_age + 1, 0)
        wants = rules.network_wants_to_scale(
            self.alive,
            dissolving,
            members,
            self.net_cohesion,
            rules.NETWORK_FOUND_SIZE,
            U["scale"],
            rules.SCALING_RATE,
        )
        founders = rules.founds_network(
            U["found"],
            agg["unaffiliated_engaged_hood"],
            rules.NETWORK_FOUND_SIZE,
            col(P["networks_enabled"], 2) > 0,
        )
        # only a founding neighbourhood's focus is read
        focus_h = (
            process.hood_focus(voice_at_t(), self.outcomes, self.pop)
            if founders.any()
            else np.zeros((B, M), dtype=np.int64)
        )
        alive_next = avail.copy()
        new_focus, parent = kernels.claim_slots_per_run(
            self.alive, self.net_hood, dissolving, founders, focus_h, wants, self.net_focus
        )
        new_focus = np.where(new_focus >= 0, rules.campaign_focus(new_focus, self.net_campaign), -1)
        new = new_focus >= 0
        alive_next |= new
        focus_next = np.where(new, new_focus, self.net_focus)
        coh_next = np.where(new, rules.NEW_NETWORK_COHESION, coh_next)
        age_next = np.where(new, 0, age_next)
        res_next = np.where(new, 0.0, res_next)
        for b, s in zip(*np.nonzero(parent >= 0), strict=True):
            res_next[b, s], res_next[b, parent[b, s]] = rules.scaling_gift(res_next[b, parent[b, s]])
        res_next = np.where(dissolving, 0.0, res_next)
        coh_next = np.where(dissolving, 0.0, coh_next)
        age_next = np.where(dissolving, 0, age_next)
        return alive_next, focus_next, res_next, coh_next, age_next

    def _agencies(self, U: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Coordination ties at t+1 and this month's delivery.

        Returns the next coordination matrix (B, A, A), effort by agency and
        domain (B, A, K) and each agency's contracted openness (B, A).
        """
        P, c, ag, A = self.P, self.council, self.agencies, self.dims.A
        n_partners, partner_share = process.partner_remit(self.coord, self.remit_share)
        over, room = process.coordination_room(P, ag["budget"], ag["budget0"], n_partners, c["convening"])
        iu, ju = self._pairs["agency_i"], self._pairs["agency_j"]
        tied = rules.next_coordination(
            self.coord[:, iu, ju],
            self.link[:, iu, ju],
            U["coordination"],
            rules.COORDINATION_PROPENSITY,
            col(P["convening_funds"], 2),
            np.maximum(over[:, iu], over[:, ju]),
            room[:, iu] * room[:, ju],
            col(P["coordination_decay"], 2),
            col(P["coordination_enabled"], 2) > 0,
            self.pledge[:, iu, ju] | self.pledge[:, ju, iu],
        )
        coord_next = np.zeros_like(self.coord)
        coord_next[:, iu, ju] = tied
        coord_next[:, ju, iu] = tied
        open_c = rules.contracted_openness(
            self.openness, col(P["social_value_weight"], 2), ag["budget"], ag["own_income"]
        )
        effort = rules.agency_effort(
            ag["budget"] / rules.MONTHS_PER_YEAR,
            ag["budget0"] / rules.MONTHS_PER_YEAR,
            self.efficiency,
            n_partners,
            col(P["coordination_cost"], 2),
            open_c,
            col(c["convening"] / A / rules.MONTHS_PER_YEAR, 2),
        )
        partner_frac = n_partners / max(A - 1, 1)
        benefit = col(P["coordination_benefit"] * P["interdependence"], 3)
        share = rules.focused_share(self.remit_share, self.agency_focus)
        domain = rules.domain_effort(
            effort, share, partner_share, partner_frac, self.cross_impact_structure, benefit
        )
        return coord_next, domain, open_c

    def _outcomes(
        self, t: int, ctx: dict[str, np.ndarray], domain: np.ndarray, open_c: np.ndarray, aid: np.ndarray
    ) -> np.ndarray:
        """Outcomes at t+1 from delivery, co-production, networks' action, decay and mutual aid."""
        P, agg, M, G, K = self.P, self._agg, self.dims.M, self.dims.G, self.dims.K
        inputs = (
            process.delivery_inputs(P, domain.sum(axis=1), self.outcomes, self.pop_share)
            + process.coproduction_inputs(
                P,
                process.openness_by_domain(P, domain, open_c),
                ctx["prio"],
                agg["unaffiliated"],
                agg["members_k"],
                self.pop,
            )
            + process.network_action_inputs(
                process.network_action(
                    P, self.net_resources, agg["mult"], self.alive, self.net_hood, self.net_focus, M, K
                ),
                self.pop,
                G,
            )
        )
        return process.update_outcomes(
            P, t, self.outcomes, self.reference, inputs, self.base, self.cross_impact_structure, aid
        )

    def _per_citizen(
        self, name: str, params: tuple[str, ...], compute: Callable[[], np.ndarray]
    ) -> np.ndarray:
        """A per-citizen rule result that depends only on fixed attributes and ``params``.

        Computed once for each set of values of those parameters.
        """
        key = tuple(self.P[p].tobytes() for p in params)
        cached = self._cache.get(name)
        if cached is None or cached[0] != key:
            cached = (key, compute())
            self._cache[name] = cached
        return cached[1]

    def _next_alliances(self, u: np.ndarray, avail: np.ndarray, hood_trust: np.ndarray) -> np.ndarray:
        P, pairs = self.P, self._pairs
        si, sj, ns, na = pairs["net_i"], pairs["net_j"], pairs["pair_net"], pairs["pair_agency"]
        rows, cols = pairs["rows"], pairs["cols"]
        fa, fb = self.net_focus[:, si], self.net_focus[:, sj]
        aff_nn = rules.network_affinity(
            fa, fb, self.cross_impact_structure, self.net_cohesion[:, si], self.net_cohesion[:, sj]
        )
        ok_nn = avail[:, si] & avail[:, sj]
        runs = np.arange(self.B)[:, None]
        remit_focus = self.remit[runs, na, self.net_focus[:, ns]]
        trust_s = hood_trust[:, pairs["pair_hood"]]
        aff_na = rules.agency_network_affinity(remit_focus, self.openness[:, na], trust_s)
        ok_na = avail[:, ns]
        tied = self.ally[:, rows, cols]
        new = rules.next_alliance(
            tied,
            np.concatenate([aff_nn, aff_na], axis=1),
            u,
            col(P["alliance_propensity"], 2),
            col(P["alliance_decay"], 2),
            col(P["alliances_enabled"], 2) > 0,
            self.ally_pledge[:, rows, cols] | self.ally_pledge[:, cols, rows],
        ) & np.concatenate([ok_nn, ok_na], axis=1)
        ally = np.zeros_like(self.ally)
        ally[:, rows, cols] = new
        ally[:, cols, rows] = new
        return ally


class _Lazy:
    """A value computed on first use, then kept (for results only some steps read)."""

    def __init__(self, compute: Callable[[], np.ndarray]):
        self._compute = compute
        self._value: np.ndarray | None = None

    def __call__(self) -> np.ndarray:
        if self._value is None:
            self._value = self._compute()
        return self._value
