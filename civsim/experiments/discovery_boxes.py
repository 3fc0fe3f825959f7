"""A box of factor values and how well it describes the cases of interest.

Coverage, density, mass and quasi-p values as Bryant and Lempert (2010) define them
(see :mod:`civsim.experiments.discovery`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import binom


@dataclass
class Box:
    """One box: its restricted factors and how well it describes the cases.

    Attributes
    ----------
    limits : dict
        ``{factor: (low, high)}`` for restricted factors only (inclusive).
    coverage, density, mass : float
        See the module docstring (shares of all rows / all cases of interest).
    rows, cases : int
        Rows in the box, and cases of interest among them.
    qp : dict
        Quasi-p value of each restricted factor.
    trajectory_index : int or None
        PRIM: the chosen step of the peeling trajectory (before pasting).
    pasted : bool
        PRIM: True when pasting widened the chosen box.
    """

    limits: dict[str, tuple[float, float]]
    coverage: float
    density: float
    mass: float
    rows: int
    cases: int
    qp: dict[str, float] = field(default_factory=dict)
    trajectory_index: int | None = None
    pasted: bool = False


def cases_of_interest(values: np.ndarray, direction: str, threshold: float) -> np.ndarray:
    """``values < threshold`` (below) or ``values > threshold`` (above)."""
    return values < threshold if direction == "below" else values > threshold


def in_limits(x: pd.DataFrame, limits: dict[str, tuple[float, float]]) -> np.ndarray:
    """Rows of ``x`` inside the box (inclusive on both sides)."""
    mask = np.ones(len(x), dtype=bool)
    for name, (lo, hi) in limits.items():
        v = x[name].to_numpy()
        mask &= (v >= lo) & (v <= hi)
    return mask


def quasi_p(x: pd.DataFrame, y: np.ndarray, limits: dict[str, tuple[float, float]]) -> dict[str, float]:
    """Quasi-p value of each restricted factor (Bryant and Lempert 2010).

    ``x`` and ``y`` are the rows the box was found on. For factor ``j``,
    ``T_j`` and ``H_j`` are the rows and cases of interest in the box with
    ``j``'s restriction dropped; the value is ``P[Binom(T_box, H_j / T_j) >= H_box]``.
    """
    inside = in_limits(x, limits)
    t_box, h_box = int(inside.sum()), int(y[inside].sum())
    out = {}
    for name in limits:
        rest = {k: v for k, v in limits.items() if k != name}
        m = in_limits(x, rest)
        t_j, h_j = int(m.sum()), int(y[m].sum())
        p = h_j / t_j if t_j else 0.0
        out[name] = float(binom.sf(h_box - 1, t_box, p)) if t_box else 1.0
    return out


def _stats(
    inside: np.ndarray, y: np.ndarray, n_total: int, cases_total: int
) -> tuple[float, float, float, int, int]:
    rows, cases = int(inside.sum()), int(y[inside].sum())
    return (
        cases / cases_total if cases_total else 0.0,
        cases / rows if rows else 0.0,
        rows / n_total,
        rows,
        cases,
    )
