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
from civsim.batch.step import MonthlyStep
from civsim.batch.structures import (
    local_indices,
    pair_indices,
    stack_ties,
    tie_counts,
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


class BatchModel(MonthlyStep):
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
        """Agencies ``agencies`` name ``partners`` as coordination partners (replacing earlier names)."""
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


def run_batch(
    points: list[dict[str, Any]],
    seeds: list[np.random.SeedSequence],
    steps: int,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Run B runs for ``steps`` months and return their series (column ``run``)."""
    return BatchModel(points, seeds).run(steps, progress).frame()


__all__ = ["BatchModel", "run_batch", "INTERVENTIONS"]
