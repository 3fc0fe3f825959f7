"""The vectorised batch core: B independent runs advancing together.

State lives in arrays with a leading batch axis; social ties of all runs form
one block-diagonal sparse matrix, so engagement contagion is one sparse
product per step. Every mechanism is a call into :mod:`civsim.rules` or
:mod:`civsim.process`, the same functions the Mesa engine's agents call, and
each run draws from its own generator in the same order as the Mesa engine
(:func:`civsim.rules.draw_step`), so the two engines dock exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from civsim import kernels, metrics, process, rules, seeding
from civsim.batch.draws import StepDraws
from civsim.batch.parallel import Overlap
from civsim.batch.structures import (
    count_tie_changes,
    local_indices,
    pair_indices,
    stack_ties,
    tie_counts,
    with_no_network,
)
from civsim.params import SCHEMA
from civsim.process import col
from civsim.world import SHOCK_KINDS, build_world

INTERVENTIONS = (
    "cut_budget",
    "shock_economic",
    "shock_environmental",
    "convene",
    "fund_networks",
    "open_coproduction",
)
"""Live interventions a trainer can make (see :meth:`BatchModel.intervene`)."""


class BatchModel:
    """B runs of the civsim model over numpy/scipy arrays.

    Parameters
    ----------
    points : list of dict
        One resolved parameter dict per run (see :func:`civsim.params.resolve`).
        Structural parameters (sizes, domains) must be equal across runs.
    seeds : list of numpy.random.SeedSequence
        One per run; run i draws only from its own stream, so its result does
        not depend on the other runs in the batch.
    threads : int, optional
        Threads for the compiled loops over citizens (default
        :func:`civsim.kernels.thread_count`: ``$CIVSIM_THREADS``, else one for
        small batches or in a pool's worker process, else numba's setting).
        Results are the same, bit for bit, for any number.
    """

    def __init__(
        self,
        points: list[dict[str, Any]],
        seeds: list[np.random.SeedSequence],
        threads: int | None = None,
    ):
        if len(points) != len(seeds) or not points:
            raise ValueError("need one seed per parameter point, and at least one run")
        for name, p in SCHEMA.items():
            if p.structural and any(pt[name] != points[0][name] for pt in points):
                raise ValueError(f"structural parameter {name!r} must be equal across a batch")
        self.points = points
        self.seeds = seeds
        self.threads = kernels.thread_count(threads, citizens=len(points) * int(points[0]["n_citizens"]))
        self.rngs = [seeding.mesa_aligned_generator(s) for s in seeds]
        self.B = B = len(points)
        worlds, tie_parts = [], []
        per_citizen = ("group", "capacity", "threshold", "trust", "engaged", "member", "vtype")
        for b, (pt, rng) in enumerate(zip(points, self.rngs, strict=True)):
            w = build_world(pt, rng)
            tie_parts.append((w.ties.indptr, w.ties.indices.astype(np.int32, copy=False)))
            w.ties = None  # only the pattern is kept, stacked below
            if b == 0:
                N = w.dims.N
                for name in per_citizen:
                    dtype = np.int32 if name in ("member", "vtype") else getattr(w, name).dtype
                    setattr(self, name, np.empty((B, N), dtype=dtype))
            for name in per_citizen:  # copied into the batch as each world is built
                getattr(self, name)[b] = getattr(w, name)
                setattr(w, name, None)
            worlds.append(w)
        w0 = worlds[0]
        self.dims = w0.dims
        self.domains = w0.domains
        self.cross_impact_structure = w0.cross_impact
        self.shock_masks = w0.shock_masks
        self.P = process.stack_params(points)
        self.net_hood = w0.net_hood
        self.hood = w0.hood

        def stack(name):
            return np.stack([getattr(w, name) for w in worlds])

        self.ties = stack_ties(tie_parts)
        del tie_parts
        self.degree, self.engaged_ties = tie_counts(self.ties, self.engaged, self.threads)
        self.outcomes = stack("outcomes")
        self.reference = self.outcomes.copy()
        self.aid_left = np.zeros((B, w0.dims.M))
        self.values = stack("values")
        self.profiles = stack("value_profiles")
        self.base = stack("base")
        self.pop = stack("pop")
        self.pop_share = self.pop / self.pop.sum(axis=(1, 2), keepdims=True)
        M, G = self.dims.M, self.dims.G
        self.cell = process.cell_index(self.hood, self.group, M, G).astype(np.int32)
        self.hood_index = (np.arange(B)[:, None] * M + self.hood).astype(np.int32)
        self._local = local_indices(self.cell, self.hood, M, G)
        self.marginalised = self.group > 0
        self.alive = stack("net_alive")
        self.net_focus = stack("net_focus")
        self.net_age = stack("net_age")
        S, A = self.dims.S, self.dims.A
        self.net_resources = np.zeros((B, S))
        self.net_cohesion = np.where(self.alive, col(self.P["trust_initial"], 2), 0.0)
        self.sector = stack("sector")
        self.remit = stack("remit")
        self.remit_share = self.remit / self.remit.sum(axis=-1, keepdims=True)
        self.efficiency = stack("efficiency")
        self.openness = stack("openness")
        self.agencies = {
            "historic": stack("historic"),
            "protected_eligible": stack("protected_eligible"),
            "remit": self.remit,
            "openness": self.openness,
            "budget": np.zeros((B, A)),
        }
        self.link = np.stack([rules.coordination_link(w.remit, w.cross_impact) for w in worlds])
        self.coord = np.zeros((B, A, A), dtype=bool)
        self.ally = np.zeros((B, S + A, S + A), dtype=bool)
        # choices of seats in a workshop room (see the methods below intervene): none by default
        self.pledge = np.zeros((B, A, A), dtype=bool)  # agency a named b as a partner
        self.agency_focus = np.full((B, A), -1, dtype=np.int64)  # remit domain it focuses on
        self.net_campaign = np.full((B, S), -1, dtype=np.int64)  # campaign focus per network slot
        self.ally_pledge = np.zeros((B, S + A, S + A), dtype=bool)  # network slot s named an ally
        budget0 = self.P["council_budget"].copy()
        self.council = {
            "budget0": budget0,
            "budget": budget0.copy(),
            "shock_factor": np.ones(B),
            "budget_change": np.zeros(B),
            "weights": stack("own_view"),
            "own": stack("own_view"),
            "service0": budget0 * process.service_share(self.P),
            "convening": np.zeros(B),
            "grant_pool": np.zeros(B),
            "care": np.zeros(B),
            "services": np.zeros(B),
        }
        ctx = process.cell_context(
            self.outcomes, self.council["weights"], self.P["priority_focus"], self.values
        )
        self.trend = ctx["index"].copy()
        self.spend = np.zeros(B)
        burn_in = int(points[0]["burn_in"])
        self.month = self._first_month = -burn_in
        self.interventions: list[tuple[int, str, float]] = []
        self._cache: dict[str, tuple[tuple[bytes, ...], np.ndarray]] = {}
        self._draws = StepDraws(self.dims, B)
        self._pairs = pair_indices(S, A, self.net_hood)
        self._index0: np.ndarray | None = None
        self._shock_now = np.zeros(B)
        self._records: list[dict[str, np.ndarray]] = []
        self._agg = self._aggregates()
        for _ in range(burn_in):
            self.step(record=False)
        self.spend = np.zeros(B)
        self._record()

    # ------------------------------------------------------------------
    @property
    def cross_impact(self) -> np.ndarray:
        """The system of challenges of run 0: C scaled by its interdependence."""
        return self.cross_impact_structure * self.P["interdependence"][0]

    @property
    def net_members(self) -> np.ndarray:
        """Members per network slot (B, S)."""
        B, S = self.alive.shape
        has = self.member >= 0
        idx = (np.arange(B)[:, None] * S + self.member)[has]
        return np.bincount(idx, minlength=B * S).reshape(B, S)

    def _record(self, overlap: Overlap | None = None) -> None:
        self._agg = self._aggregates(overlap)
        m = metrics.step_metrics(
            outcomes=self.outcomes,
            pop=self.pop,
            values=self.values,
            weights=self.council["weights"],
            engaged_cell=self._agg["engaged_cell"],
            members=self._agg["members"],
            trust=self.trust,
            alive=self.alive,
            slots_per_hood=self.dims.S // max(self.dims.M, 1),
            ally=self.ally,
            coord=self.coord,
            budget=self.council["budget"],
            care=self.council["care"],
            services=self.council["services"],
            spend=self.spend,
            index0=self._index0,
            shock=self._shock_now,
            domains=self.domains,
            focus=self.P["priority_focus"],
        )
        if self._index0 is None:
            self._index0 = m["outcome_index"].copy()
        m["step"] = np.full(self.B, self.month, dtype=float)
        self._records.append(m)

    def frame(self) -> pd.DataFrame:
        """Every recorded step of every run: columns ``run``, ``step``, then the metrics."""
        cols = ["step"] + metrics.series_columns(self.domains, self.dims.G, self.dims.M)
        data = {c: np.stack([r[c] for r in self._records], axis=1).ravel() for c in cols}
        T = len(self._records)
        df = pd.DataFrame({"run": np.repeat(np.arange(self.B), T), **data})
        df["step"] = df["step"].astype(np.int64)
        return df

    def run(self, steps: int, progress: Callable[[int, int], None] | None = None) -> BatchModel:
        """Advance ``steps`` months, calling ``progress(done, total)`` after each."""
        for i in range(steps):
            self.step()
            if progress is not None:
                progress(i + 1, steps)
        return self

    # ------------------------------------------------------------------
    def intervene(self, name: str, value: float) -> None:
        """Change the world now, as a trainer would during a workshop.

        ``cut_budget``: cut the council budget by share ``value`` from now on;
        ``shock_economic`` / ``shock_environmental``: a shock of size ``value``
        in every neighbourhood; ``convene``: spend share ``value`` of the budget
        convening partnerships; ``fund_networks``: grant share ``value`` to
        networks; ``open_coproduction``: set every agency's openness to ``value``.
        """
        if name not in INTERVENTIONS:
            raise ValueError(f"unknown intervention {name!r}: expected one of {', '.join(INTERVENTIONS)}")
        c, v = self.council, float(value)
        if name == "cut_budget":
            self.agencies["budget"] = process.cut_budget(c, self.agencies["budget"], np.full(self.B, v))
        elif name.startswith("shock_"):
            kind = SHOCK_KINDS.index(name.removeprefix("shock_"))
            mask = self.shock_masks[kind] * v
            hit = np.ones((self.B, self.dims.M))
            before = self.outcomes
            self.outcomes = rules.apply_shock(self.outcomes, hit, mask, 1.0)
            self.reference, self.aid_left = rules.after_shock(self.reference, self.aid_left, before, hit)
            self._shock_now = np.ones(self.B)
        elif name == "convene":
            self.P["convening_funds"] = np.full(self.B, v)
        elif name == "fund_networks":
            self.P["network_grants"] = np.full(self.B, v)
            c["grant_pool"] = c["budget"] * v / rules.MONTHS_PER_YEAR
        elif name == "open_coproduction":
            self.openness[:] = v
        self.interventions.append((self.month, name, v))
        self._agg = self._aggregates()

    # choices of a workshop room's seats (civsim.rooms.plan), the same methods as the Mesa engine's
    def pledge_partners(self, agencies: Sequence[int], partners: Sequence[int]) -> None:
        """Agencies ``agencies`` name ``partners`` as their coordination partners (replacing earlier names)."""
        rows = list(agencies)
        self.pledge[:, rows, :] = process.pledge_rows(self.dims.A, rows, partners)

    def set_agency_focus(self, agencies: Sequence[int], domain: int) -> None:
        """Agencies ``agencies`` focus their effort on ``domain`` (-1: spread over the remit)."""
        self.agency_focus[:, list(agencies)] = domain

    def set_campaign(self, hoods: Sequence[int], domain: int) -> None:
        """Networks of ``hoods`` campaign on ``domain`` from now on (-1: release; they keep their focus)."""
        slots = process.hood_slots(self.net_hood, hoods)
        self.net_campaign[:, slots] = domain
        self.net_focus = rules.campaign_focus(self.net_focus, self.net_campaign)
        self._agg = self._aggregates()  # members' action is summed by their network's focus

    def pledge_allies(self, hoods: Sequence[int], agencies: Sequence[int], ally_hoods: Sequence[int]) -> None:
        """Networks of ``hoods`` name the networks of ``ally_hoods`` and ``agencies`` as allies."""
        rows = process.hood_slots(self.net_hood, hoods)
        targets = process.ally_targets(self.net_hood, self.dims.S, agencies, ally_hoods)
        self.ally_pledge[:, rows, :] = process.pledge_rows(self.dims.S + self.dims.A, rows, targets)

    # ------------------------------------------------------------------
    def step(self, record: bool = True) -> None:
        """Advance all runs one month: decide on the state at t, then apply.

        Burn-in steps (months before 0) are not recorded. With threads, the
        tie counts and the next step's draws overlap the step's end (see ``Overlap``).
        """
        overlap = Overlap(self.threads) if self.threads > 1 else None
        with kernels.threads(self.threads):
            try:
                self._step(record, overlap)
            finally:
                if overlap is not None:
                    overlap.join()

    def _step(self, record: bool, overlap: Overlap | None = None) -> None:
        d, P, B = self.dims, self.P, self.B
        N, M, G, K, S, A = d.N, d.M, d.G, d.K, d.S, d.A
        t = self.month
        U = self._draws.draw(self.rngs, self.threads)
        c, ag = self.council, self.agencies

        agg, outcomes_t = self._agg, self.outcomes
        voice_at_t = _Lazy(
            lambda: process.voice_cells(self.profiles, outcomes_t, P["priority_focus"], agg["voice_type"])
        )
        first = t == self._first_month
        if t % rules.MONTHS_PER_YEAR == 0 or first:
            need_k = process.need_by_domain(self.outcomes, self.pop_share)
            if not first:
                voice = process.voice_by_domain(voice_at_t())
                allied = process.allied_by_domain(
                    self.ally, self.alive, self.net_focus, agg["members"], N, K
                )
                process.revise_agenda(P, c, need_k, voice, allied)
            process.yearly_budget(P, max(t, 0) // rules.MONTHS_PER_YEAR, first, c, ag, need_k)

        occurred, kind, hit = process.shock_hits(P, t, U["shock"])
        mask = self.shock_masks[kind] * col(P["shock_size"], 2)
        before = self.outcomes
        self.outcomes = rules.apply_shock(self.outcomes, hit, mask[:, None, None, :], 1.0)
        self.reference, self.aid_left = rules.after_shock(self.reference, self.aid_left, before, hit)
        budget_hit = occurred & (kind == SHOCK_KINDS.index("budget"))
        if budget_hit.any():
            ag["budget"] = process.cut_budget(c, ag["budget"], np.where(budget_hit, P["shock_size"], 0.0))
        shock_now = np.maximum(occurred.astype(float), self._shock_now)

        ctx = process.cell_context(self.outcomes, c["weights"], P["priority_focus"], self.values)
        mult = agg["mult"]
        link = process.hood_links(self.ally, self.net_hood, M)
        aid, strain = process.aid_rates(P, agg["engaged_cell"], self.pop, link, self.aid_left)

        # Citizens: engagement, trust, membership (one compiled pass over the rules)
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
        members = agg["members"]
        dissolving = rules.network_dissolves(
            self.alive, members, self.net_age, col(P["network_min_members"], 2)
        )
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
        avail = self.alive & ~dissolving
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
        engaged_next = engaged_next.reshape(B, N)
        trust_next = trust_next.reshape(B, N)
        member_next = member_next.reshape(B, N)

        # Networks: resources, cohesion, dissolution, founding, scaling
        grant = process.network_grants(c["grant_pool"], N, members)
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

        # Agencies: coordination ties and delivery
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
        effort_k = domain.sum(axis=1)

        # Alliances between networks, and between networks and agencies
        ally_next = self._next_alliances(U["alliance"], avail, agg["hood_trust"])

        # Outcomes
        inputs = (
            process.delivery_inputs(P, effort_k, self.outcomes, self.pop_share)
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
                    P, self.net_resources, mult, self.alive, self.net_hood, self.net_focus, M, K
                ),
                self.pop,
                G,
            )
        )
        out_next = process.update_outcomes(
            P, t, self.outcomes, self.reference, inputs, self.base, self.cross_impact_structure, aid
        )

        # Apply
        self.engaged = engaged_next
        self.trust = trust_next
        self.member = member_next
        self.alive, self.net_focus, self.net_resources = alive_next, focus_next, res_next
        self.net_cohesion, self.net_age = coh_next, age_next
        self.coord = coord_next
        self.ally = ally_next
        self.outcomes = out_next
        self.trend = rules.next_trend(self.trend, ctx["index"])
        self.spend = self.spend + c["budget"] / rules.MONTHS_PER_YEAR
        self.month = t + 1
        self._shock_now = shock_now
        if record:
            self._record(overlap)
        else:
            self._agg = self._aggregates(overlap)
        self._shock_now = np.zeros(B)

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

    def _aggregates(self, overlap: Overlap | None = None) -> dict[str, np.ndarray]:
        """Sums over citizens for the current state, and the networks' pooled multiplier ``mult``.

        Taken when a state is recorded (metrics need them too) and used by the
        next step, which decides on that same state; an intervention retakes them.
        """
        S = self.dims.S
        n_allies = self.ally[:, :S, :].sum(axis=2)
        mult = rules.pooled_multiplier(self.net_cohesion, n_allies, col(self.P["alliance_synergy"], 2))
        threads = self.threads
        if overlap is not None:  # the next step's draws on another thread meanwhile, so the sums take one
            overlap.start(self._draws.draw_ahead, self.rngs)
            threads = 1
        with kernels.threads(threads):
            agg = process.citizen_aggregates(
                self.cell,
                self.engaged,
                self.member,
                self.capacity,
                self.trust,
                mult,
                self.net_focus,
                self.vtype,
                self.pop,
                self.dims.K,
            )
        agg["mult"] = mult
        return agg

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


def run_batch(
    points: list[dict[str, Any]],
    seeds: list[np.random.SeedSequence],
    steps: int,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Run B runs for ``steps`` months and return their series (column ``run``)."""
    return BatchModel(points, seeds).run(steps, progress).frame()


__all__ = ["BatchModel", "run_batch", "INTERVENTIONS"]
