"""Random draws: the fixed order of every uniform a step needs (what docks the two engines).

Part of :mod:`civsim.rules`; see its docstring for notation and conventions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MONTHS_PER_YEAR = 12
NEW_NETWORK_COHESION = 0.3
"""Cohesion of a newly founded network."""


@dataclass(frozen=True)
class Dims:
    """Sizes of one run's world."""

    N: int
    M: int
    G: int
    K: int
    S: int
    A: int

    @property
    def coordination_pairs(self) -> int:
        return self.A * (self.A - 1) // 2

    @property
    def alliance_pairs(self) -> int:
        return self.S * (self.S - 1) // 2 + self.S * self.A


DRAW_ORDER: tuple[str, ...] = ("shock", "engage", "join", "scale", "found", "coordination", "alliance")


def draw_sizes(dims: Dims) -> dict[str, int]:
    """How many uniforms each kind of draw takes per step (see :func:`draw_step`)."""
    return {
        "shock": 1 + dims.M,
        "engage": dims.N,
        "join": dims.N,
        "scale": dims.S,
        "found": dims.M,
        "coordination": dims.coordination_pairs,
        "alliance": dims.alliance_pairs,
    }


def draw_step(
    rng: np.random.Generator, dims: Dims, out: dict[str, np.ndarray] | None = None
) -> dict[str, np.ndarray]:
    """Draw every uniform one step needs, in the documented fixed order.

    The order is: shock (1 + M), citizens' engagement (N), citizens' network
    joining (N), network scaling (S), network founding (M), agency coordination pairs
    (A(A-1)/2, row-major upper triangle), alliance pairs (network-network
    upper triangle, then network-agency row-major). Every draw is made every
    step, whatever the parameters, so the stream never shifts. With ``out``
    (float64 arrays of the right sizes, e.g. rows of a batch's buffers) the
    draws are written in place; the values are the same.
    """
    sizes = draw_sizes(dims)
    if out is None:
        return {k: rng.random(sizes[k]) for k in DRAW_ORDER}
    for k in DRAW_ORDER:
        rng.random(out=out[k])
    return out
