"""A batch's uniforms for each step: every run from its own generator, into its own rows.

Each run draws :func:`civsim.rules.draw_step`'s numbers in its fixed order
(the docking protocol), so the values never depend on how or when they are
drawn: run after run, runs side by side on threads, or a step ahead.
"""

from __future__ import annotations

import numpy as np

from civsim import rules
from civsim.batch.parallel import THREADED_DRAWS_MIN, thread_pool


class StepDraws:
    """This step's uniforms for B runs (``now``: name -> (B, size)); the next step's, if drawn ahead."""

    def __init__(self, dims: rules.Dims, B: int):
        self.dims = dims
        self.now = {k: np.empty((B, n)) for k, n in rules.draw_sizes(dims).items()}
        self._ahead: dict[str, np.ndarray] | None = None  # the next step's, once drawn ahead
        self._spare: dict[str, np.ndarray] | None = None  # arrays to draw ahead into

    def draw(self, rngs: list[np.random.Generator], threads: int) -> dict[str, np.ndarray]:
        """This step's uniforms (the ones drawn ahead, if the last step did).

        numpy's generators release the GIL while they fill an array, so with
        several threads and large runs the runs draw side by side; every
        number is the one a single thread would draw.
        """
        if self._ahead is not None:
            self._spare, self.now, self._ahead = self.now, self._ahead, None
            return self.now
        d = self.dims
        # each run's rows as views of this step's arrays, made here (not kept): a copied model
        # (copy.deepcopy, as a room's counterfactual year) must fill its own arrays
        jobs = list(zip(rngs, _rows(self.now, len(rngs)), strict=True))
        if threads > 1 and len(rngs) > 1 and d.N >= THREADED_DRAWS_MIN:
            list(thread_pool(threads).map(lambda job: rules.draw_step(job[0], d, job[1]), jobs))
        else:
            for rng, row in jobs:
                rules.draw_step(rng, d, row)
        return self.now

    def draw_ahead(self, rngs: list[np.random.Generator]) -> None:
        """Draw the next step's uniforms now, run after run (on another thread while a step ends).

        Each generator draws exactly what it would draw at the start of the next step.
        """
        ahead, self._spare = self._spare, None
        if ahead is None:
            ahead = {k: np.empty_like(v) for k, v in self.now.items()}
        for rng, row in zip(rngs, _rows(ahead, len(rngs)), strict=True):
            rules.draw_step(rng, self.dims, row)
        self._ahead = ahead


def _rows(arrays: dict[str, np.ndarray], B: int) -> list[dict[str, np.ndarray]]:
    return [{k: v[b] for k, v in arrays.items()} for b in range(B)]
