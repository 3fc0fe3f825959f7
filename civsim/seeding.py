"""Seeds: every run's randomness follows from one recorded seed.

A run is identified by ``(seed, key)``; its stream is
``SeedSequence(seed, spawn_key=key)``, which equals
``SeedSequence(seed).spawn(...)[i]`` for ``key = (i,)`` but does not depend
on call order, so resumed sweeps and batches of any size reproduce it.
"""

from __future__ import annotations

import numpy as np

MESA_INIT_DRAWS = 1
"""Mesa's ``Model.__init__`` draws one integer from a Generator passed as ``rng``
(to seed its stdlib ``random``). The batch core discards the same draw so both
engines consume identical streams."""


def run_sequence(seed: int, key: tuple[int, ...] = ()) -> np.random.SeedSequence:
    """The seed sequence of one run: ``SeedSequence(seed, spawn_key=key)``."""
    return np.random.SeedSequence(int(seed), spawn_key=tuple(int(k) for k in key))


def replicate_sequences(seed: int, reps: int) -> list[np.random.SeedSequence]:
    """Sequences for replicates 0..reps-1; a single run uses the plain seed."""
    if reps == 1:
        return [run_sequence(seed)]
    return [run_sequence(seed, (r,)) for r in range(reps)]


def mesa_aligned_generator(seq: np.random.SeedSequence) -> np.random.Generator:
    """A generator positioned where a Mesa model's ``rng`` is after ``Model.__init__``."""
    rng = np.random.default_rng(seq)
    for _ in range(MESA_INIT_DRAWS):
        rng.integers(np.iinfo(np.int32).max)
    return rng
