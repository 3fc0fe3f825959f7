"""CivicModel: the civsim model as a Mesa 3 model.

``step()`` reads as the model's monthly schedule: the council's yearly cycle,
shocks, everyone deciding on the state at t, then everyone applying their
decisions, then data collection. See docs/ODD.md.
"""

from __future__ import annotations

from typing import Any

import mesa
import numpy as np
import pandas as pd
from mesa.agent import AgentSet

from civsim import metrics, process, rules
from civsim.agents import Agency, Citizen, Council, Network
from civsim.model_choices import ModelChoices
from civsim.model_networks import ModelNetworks
from civsim.params import resolve
from civsim.seeding import run_sequence
from civsim.world import SHOCK_KINDS, build_world


class CivicModel(ModelChoices, ModelNetworks, mesa.Model):
    """A locality of citizens, networks, agencies and a council.

    Parameters
    ----------
    params : dict, optional
        Parameter overrides (validated against the schema) or a fully resolved dict.
    seed : int
        The run's seed; the run's stream is ``SeedSequence(seed, spawn_key=key)``.
    key : tuple of int
        Spawn key of this run (e.g. ``(replicate,)``); empty for a single run.
    """

    def __init__(
        self, params: dict[str, Any] | None = None, seed: int = 0, key: tuple[int, ...] = ()
    ) -> None:
        super().__init__(rng=np.random.default_rng(run_sequence(seed, key)))
        self.p = resolve(params)
        self.P = process.stack_params([self.p])
        self.seed = seed
        self.key = key
        self.world = w = build_world(self.p, self.rng)
        self.dims = w.dims
        self.month = 0
        self.outcomes = w.outcomes[None].copy()
        self.reference = self.outcomes.copy()
        self.aid_left = np.zeros((1, w.dims.M))
        self.values = w.values[None]
        self.profiles = w.value_profiles[None]
        self.base = w.base[None]
        self.pop = w.pop[None]
        self.pop_share = self.pop / self.pop.sum(axis=(1, 2), keepdims=True)
        self.cell = process.cell_index(w.hood, w.group[None], w.dims.M, w.dims.G)
        self.citizen_list = [
            Citizen(
                self,
                i,
                int(w.hood[i]),
                int(w.group[i]),
                float(w.capacity[i]),
                float(w.threshold[i]),
                float(w.trust[i]),
                bool(w.engaged[i]),
                int(w.member[i]),
                int(w.vtype[i]),
            )
            for i in range(w.dims.N)
        ]
        indptr, indices = w.ties.indptr, w.ties.indices
        for i, c in enumerate(self.citizen_list):
            c.ties = [self.citizen_list[j] for j in indices[indptr[i] : indptr[i + 1]]]
        self.slots: list[Network | None] = [None] * w.dims.S
        for s in np.flatnonzero(w.net_alive):
            self.slots[s] = Network(
                self,
                int(s),
                int(w.net_hood[s]),
                int(w.net_focus[s]),
                0.0,
                self.p["trust_initial"],
                int(w.net_age[s]),
            )
        self.agency_list = [
            Agency(
                self,
                a,
                int(w.sector[a]),
                w.remit[a],
                float(w.efficiency[a]),
                float(w.openness[a]),
                float(w.historic[a]),
                float(w.protected_eligible[a]),
            )
            for a in range(w.dims.A)
        ]
        self.link = rules.coordination_link(w.remit, w.cross_impact)
        # choices of seats in a workshop room (civsim.model_choices): none by default
        self.campaign = np.full(w.dims.S, -1, dtype=np.int64)  # campaign focus per network slot
        self.ally_pledge = np.zeros((w.dims.S + w.dims.A,) * 2, dtype=bool)  # slot s named an ally
        self.interventions: list[tuple[int, str, float]] = []
        self.council = Council(self)
        ctx = process.cell_context(
            self.outcomes, self.council.state["weights"], self.P["priority_focus"], self.values
        )
        self.trend = ctx["index"].copy()
        self.spend = np.zeros(1)
        self.month = self.first_month = -int(self.p["burn_in"])
        self.draws: dict[str, np.ndarray] = {}
        self.ctx: dict[str, Any] = {}
        self.agg: dict[str, np.ndarray] = {}  # sums over citizens for the state at t, taken by _collect
        self._index0: np.ndarray | None = None
        self._shock_now = np.zeros(1)
        self.metrics: dict[str, float] = {}
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "step": "month",
                **{c: _reporter(c) for c in metrics.series_columns(w.domains, w.dims.G, w.dims.M)},
            }
        )
        self.agg = self.aggregates()
        for _ in range(int(self.p["burn_in"])):
            self.advance(record=False)
        self.spend = np.zeros(1)
        self._collect()

    # ------------------------------------------------------------------
    # The schedule

    def step(self) -> None:
        """One month: yearly cycle, shocks, decide on state t, apply, collect."""
        self.advance(record=True)

    def advance(self, record: bool) -> None:
        """One month of the schedule; burn-in months (before month 0) are not recorded."""
        t = self.month
        self.draws = rules.draw_step(self.rng, self.dims)
        self.voice_cell = process.voice_cells(
            self.profiles, self.outcomes, self.P["priority_focus"], self.agg["voice_type"]
        )
        first = t == self.first_month
        if t % rules.MONTHS_PER_YEAR == 0 or first:
            self.council.yearly_cycle(max(t, 0) // rules.MONTHS_PER_YEAR, first)
        shock_now = self.shocks(t)

        self.prepare_context()
        self.networks().do("assess")
        self.ctx["available"] = self.available_networks()
        members = self.agg["members"][0]
        self.ctx["join_weight"] = [
            np.cumsum(np.array([members[s] + 1.0 for s in opts])) if opts else np.full(1, np.inf)
            for opts in self.ctx["available"]
        ]
        for c in self.citizen_list:
            c.decide()
        self.networks().do("decide")
        new_networks = self.found_and_scale()
        for a in self.agency_list:
            a.decide_ties()
        delivery = np.stack([a.delivery() for a in self.agency_list])[None]
        ally_next = self.decide_alliances()
        out_next = self.next_outcomes(delivery)

        for c in self.citizen_list:
            c.advance()
        self.networks().do("advance")
        for a in self.agency_list:
            a.advance()
        self.apply_networks(new_networks)
        self.apply_alliances(ally_next)
        self.outcomes = out_next
        self.trend = rules.next_trend(self.trend, self.ctx["index"])
        self.spend = self.spend + self.council.state["budget"] / rules.MONTHS_PER_YEAR
        self.month = t + 1
        self._shock_now = np.maximum(shock_now, self._shock_now)
        if record:
            self._collect()
        else:
            self.agg = self.aggregates()
        self._shock_now = np.zeros(1)

    # ------------------------------------------------------------------
    # Steps of the schedule

    def shocks(self, t: int) -> np.ndarray:
        """Apply this month's shocks (scheduled or random) to outcomes and budgets."""
        occurred, kind, hit = process.shock_hits(self.P, t, self.draws["shock"][None])
        mask = self.world.shock_masks[kind] * process.col(self.P["shock_size"], 2)
        before = self.outcomes
        self.outcomes = rules.apply_shock(self.outcomes, hit, mask[:, None, None, :], 1.0)
        self.reference, self.aid_left = rules.after_shock(self.reference, self.aid_left, before, hit)
        if occurred[0] and kind[0] == SHOCK_KINDS.index("budget"):
            self.council.cut_budget(self.p["shock_size"])
        return occurred.astype(float)

    def prepare_context(self) -> None:
        """Everything agents read about the state at t: cell context, aid and agencies' room."""
        ctx = process.cell_context(
            self.outcomes, self.council.state["weights"], self.P["priority_focus"], self.values
        )
        ctx["trend"] = ctx["index"] - self.trend
        link = process.hood_links(self.alliance_matrix(), self.world.net_hood, self.dims.M)
        ctx["aid"], ctx["strain"] = process.aid_rates(
            self.P, self.agg["engaged_cell"], self.pop, link, self.aid_left
        )
        ag = self.agency_arrays()
        n_partners = np.array([[float(len(a.partners)) for a in self.agency_list]])
        ctx["coord_over"], ctx["coord_room"] = process.coordination_room(
            self.P, ag["budget"], ag["budget0"], n_partners, self.council.state["convening"]
        )
        ctx["grants"] = process.network_grants(
            self.council.state["grant_pool"], self.dims.N, self.agg["members"]
        )
        ctx["member_trust_mean"] = process.member_trust_mean(self.agg["member_trust"], self.agg["members"])
        self.ctx = ctx

    def next_outcomes(self, delivery: np.ndarray) -> np.ndarray:
        """Outcomes at t+1 from delivery (1, A, K), co-production, network action and mutual aid."""
        P, d, agg = self.P, self.dims, self.agg
        openness = np.array([[a.contracted_openness() for a in self.agency_list]])
        effort_k = delivery.sum(axis=1)
        alive, focus, resources, mult = self.network_arrays()
        inputs = (
            process.delivery_inputs(P, effort_k, self.outcomes, self.pop_share)
            + process.coproduction_inputs(
                P,
                process.openness_by_domain(P, delivery, openness),
                self.ctx["prio"],
                agg["unaffiliated"],
                agg["members_k"],
                self.pop,
            )
            + process.network_action_inputs(
                process.network_action(P, resources, mult, alive, self.world.net_hood, focus, d.M, d.K),
                self.pop,
                d.G,
            )
        )
        return process.update_outcomes(
            P,
            self.month,
            self.outcomes,
            self.reference,
            inputs,
            self.base,
            self.world.cross_impact,
            self.ctx["aid"],
        )

    # ------------------------------------------------------------------
    # Views of the agents as arrays (a batch of one), for shared processes

    def networks(self) -> AgentSet:
        """The live networks, in slot order."""
        return AgentSet([n for n in self.slots if n is not None], random=self.random)

    def network_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """alive, focus, resources and pooled multiplier per slot, each (1, S)."""
        S = self.dims.S
        alive = np.zeros((1, S), dtype=bool)
        focus = np.zeros((1, S), dtype=np.int64)
        resources = np.zeros((1, S))
        mult = np.ones((1, S))
        for s, n in enumerate(self.slots):
            if n is not None:
                alive[0, s], focus[0, s], resources[0, s], mult[0, s] = (
                    True,
                    n.focus,
                    n.resources,
                    n.multiplier(),
                )
        return alive, focus, resources, mult

    def aggregates(self) -> dict[str, np.ndarray]:
        """Sums over citizens (process.citizen_aggregates) for the state at t."""
        cs = self.citizen_list
        alive, focus, _, mult = self.network_arrays()
        return process.citizen_aggregates(
            self.cell,
            np.array([[c.engaged for c in cs]]),
            np.array([[c.member for c in cs]]),
            self.world.capacity[None],
            np.array([[c.trust for c in cs]]),
            mult,
            focus,
            np.array([[c.vtype for c in cs]]),
            self.pop,
            self.dims.K,
        )

    def agency_arrays(self) -> dict[str, np.ndarray]:
        """Agencies as (1, A) arrays for the council's commissioning."""
        ags = self.agency_list
        return {
            "historic": np.array([[a.historic for a in ags]]),
            "protected_eligible": np.array([[a.protected_eligible for a in ags]]),
            "remit": np.stack([a.remit for a in ags])[None],
            "openness": np.array([[a.openness for a in ags]]),
            "budget": np.array([[a.budget for a in ags]]),
            "budget0": np.array([[a.budget0 for a in ags]]),
            "own_income": np.array([[a.own_income for a in ags]]),
        }

    def alliance_matrix(self) -> np.ndarray:
        """Alliance ties as a (1, S + A, S + A) bool matrix (networks by slot, then agencies)."""
        S, A = self.dims.S, self.dims.A
        mat = np.zeros((1, S + A, S + A), dtype=bool)
        for n in self.slots:
            if n is None:
                continue
            for other in n.allies:
                j = other.slot if isinstance(other, Network) else S + other.index
                mat[0, n.slot, j] = mat[0, j, n.slot] = True
        return mat

    def coordination_matrix(self) -> np.ndarray:
        """Coordination ties as a (1, A, A) bool matrix."""
        A = self.dims.A
        mat = np.zeros((1, A, A), dtype=bool)
        for a in self.agency_list:
            for b in a.partners:
                mat[0, a.index, b.index] = True
        return mat

    @staticmethod
    def pair_index(i: int, j: int, n: int) -> int:
        """Position of pair (i < j) in the row-major upper triangle of an n x n matrix."""
        return i * n - i * (i + 1) // 2 + (j - i - 1)

    # ------------------------------------------------------------------
    # Data

    def _collect(self) -> None:
        cs = self.citizen_list
        alive, _, _, _ = self.network_arrays()
        self.agg = self.aggregates()
        m = metrics.step_metrics(
            outcomes=self.outcomes,
            pop=self.pop,
            values=self.values,
            weights=self.council.state["weights"],
            engaged_cell=self.agg["engaged_cell"],
            members=self.agg["members"],
            trust=np.array([[c.trust for c in cs]]),
            alive=alive,
            slots_per_hood=self.dims.S // max(self.dims.M, 1),
            ally=self.alliance_matrix(),
            coord=self.coordination_matrix(),
            budget=self.council.state["budget"],
            care=self.council.state["care"],
            services=self.council.state["services"],
            spend=self.spend,
            index0=self._index0,
            shock=self._shock_now,
            domains=self.world.domains,
            focus=self.P["priority_focus"],
        )
        if self._index0 is None:
            self._index0 = m["outcome_index"].copy()
        self.metrics = {k: float(v[0]) for k, v in m.items()}
        self.datacollector.collect(self)

    def frame(self) -> pd.DataFrame:
        """The collected series: one row per step, ``step`` first."""
        df = self.datacollector.get_model_vars_dataframe().reset_index(drop=True)
        df["step"] = df["step"].astype(np.int64)
        return df

    def run(self, steps: int) -> CivicModel:
        """Advance ``steps`` months."""
        for _ in range(steps):
            self.step()
        return self


def _reporter(name: str):
    def report(model: CivicModel) -> float:
        return model.metrics[name]

    report.__name__ = name
    report.__doc__ = f"Per-step metric {name!r} (see civsim.metrics)."
    return report
