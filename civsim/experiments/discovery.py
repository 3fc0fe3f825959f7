"""Scenario discovery: in which futures does a strategy fail?

Given one row per future (the factors that describe it and a metric), mark
the *cases of interest* -- the metric below (or above) a threshold -- and
find boxes, ``low <= factor <= high`` on a few factors, that hold many of
them (coverage) and mostly them (density), as Bryant and Lempert (2010)
describe:

- ``coverage`` = cases of interest in the box / all cases of interest;
- ``density`` = cases of interest in the box / rows in the box;
- ``mass`` = rows in the box / all rows.

Two methods:

**PRIM** (Friedman and Fisher 1999), from the ``prim`` package (the EMA
Workbench implementation, Kwakkel 2017): peeling cuts ``peel_alpha`` of the
rows off one side of one factor at a time, the cut that raises density
most per row lost, until the box holds ``mass_min`` of the data; every step
is a box on the *peeling trajectory*, the coverage-density trade-off. The
package pastes (widens a restricted side by ``paste_alpha`` while density
rises) only the last, densest box of the trajectory; the box we choose by
the stated rule is usually earlier, so we paste *that* box with the
package's own pasting step. Boxes after the first are found on the rows no
earlier box holds (the "covering" approach).

**CART** (Breiman et al. 1984), scikit-learn's ``DecisionTreeClassifier``:
each leaf is a box; leaves whose rows are mostly cases of interest are
reported.

Each restricted factor gets a quasi-p value (Bryant and Lempert 2010): the
one-sided binomial probability of finding at least the box's cases of
interest among its rows if the restriction on that factor were dropped,
``P[Binom(T_box, H_j / T_j) >= H_box]``. A large value (say > 0.05) means
the restriction adds little and may be noise.

References
----------
Friedman and Fisher (1999), Statistics and Computing 9(2), 123-143.
Bryant and Lempert (2010), Technological Forecasting & Social Change 77(1), 34-49.
Breiman, Friedman, Olshen and Stone (1984), Classification and Regression Trees.
Kwakkel (2017), Environmental Modelling & Software 96, 239-250.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binom

from civsim.errors import UserError

METHODS: tuple[str, ...] = ("prim", "cart")
DEFAULT_MIN_DENSITY = 0.8


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


@dataclass
class Discovery:
    """The result of :func:`discover`.

    Attributes
    ----------
    method, metric, direction : str
        ``direction`` is ``"below"`` or ``"above"``.
    threshold : float
    factors : list of str
    x : pandas.DataFrame
        The factor values analysed (float), one row per case.
    y : numpy.ndarray
        True for a case of interest.
    boxes : list of Box
    trajectories : list of pandas.DataFrame
        PRIM: the peeling trajectory behind each box (coverage, density,
        mass, res_dim; shares of all rows and cases), pasting steps excluded.
    rule : str
        How each box was chosen, in words.
    noun : str
        What a row is (``"futures"``, ...).
    notes : list of str
        Things the reader should know (rows dropped, rule fallbacks).
    """

    method: str
    metric: str
    direction: str
    threshold: float
    factors: list[str]
    x: pd.DataFrame
    y: np.ndarray
    boxes: list[Box]
    trajectories: list[pd.DataFrame]
    rule: str
    noun: str = "rows"
    notes: list[str] = field(default_factory=list)
    tree: Any = None
    """CART: the fitted ``DecisionTreeClassifier``."""

    @property
    def n_cases(self) -> int:
        """Cases of interest in the data."""
        return int(self.y.sum())


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


def _restricted(lims: Any, x: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """Restricted factors of a ``prim`` box (a structured array [low, high]) on rows ``x``."""
    out = {}
    for name in x.columns:
        lo, hi = float(lims[name][0]), float(lims[name][1])
        dmin, dmax = float(x[name].min()), float(x[name].max())
        if lo > dmin or hi < dmax:
            out[name] = (lo, hi)
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


def _choose(traj: pd.DataFrame, min_density: float) -> tuple[int, bool]:
    """Index of the box with the most coverage at density >= min_density
    (ties: fewer restricted factors, then density); else the densest. Second
    value: whether the rule was met."""
    ok = traj[traj["density"] >= min_density - 1e-12]
    if len(ok):
        best = ok.sort_values(
            ["coverage", "res_dim", "density"], ascending=[False, True, False], kind="stable"
        )
        return int(best.index[0]), True
    return int(traj["density"].idxmax()), False


def _prim(
    x: pd.DataFrame,
    y: np.ndarray,
    *,
    min_density: float,
    box: int | None,
    max_boxes: int,
    peel_alpha: float,
    paste_alpha: float,
    mass_min: float,
) -> tuple[list[Box], list[pd.DataFrame], list[str]]:
    import prim

    n, total = len(y), int(y.sum())
    remaining = np.arange(n)
    boxes, trajectories, notes = [], [], []
    for k in range(max_boxes):
        xr, yr = x.iloc[remaining].reset_index(drop=True), y[remaining]
        if yr.sum() == 0 or len(yr) < 2:
            break
        p = prim.Prim(
            xr,
            yr.astype(bool),
            threshold=0.5,
            threshold_type=">",
            peel_alpha=peel_alpha,
            paste_alpha=paste_alpha,
            mass_min=min(1.0, mass_min * n / len(yr)),
        )
        pbox = p.find_box()
        t = pbox.peeling_trajectory.reset_index(drop=True)
        mass = t["mass"].to_numpy(dtype=float)
        grows = np.nonzero(np.diff(mass) > 0)[0]  # pasting only ever adds rows, peeling only removes them
        n_peel = int(grows[0]) + 1 if len(grows) else len(t)
        scale_c, scale_m = yr.sum() / total, len(yr) / n
        traj = pd.DataFrame(
            {
                "coverage": t["coverage"].to_numpy(float)[:n_peel] * scale_c,
                "density": t["density"].to_numpy(float)[:n_peel],
                "mass": mass[:n_peel] * scale_m,
                "res_dim": t["res dim"].to_numpy(int)[:n_peel],
            }
        )
        if k == 0 and box is not None:
            if not 0 <= box < n_peel:
                raise UserError(
                    f"--box {box} is not allowed: the peeling trajectory has boxes 0..{n_peel - 1}"
                )
            i, met = box, True
        else:
            i, met = _choose(traj, min_density)
            if not met and k > 0:
                break  # later boxes only when they reach the density asked for
            if not met:
                notes.append(
                    f"no box on the peeling trajectory reaches density {min_density:.2f}; "
                    f"took the densest ({traj['density'][i]:.2f})"
                )
        chosen = _restricted(pbox._box_lims[i], xr)
        lims = paste(xr, yr, chosen, paste_alpha=paste_alpha, mass_min=p.mass_min, prim_obj=p)
        inside_r = in_limits(xr, lims)
        cov, den, mas, rows, cases = _stats(inside_r, yr, n, total)
        bx = Box(lims, cov, den, mas, rows, cases, quasi_p(xr, yr, lims), i, lims != chosen)
        boxes.append(bx)
        trajectories.append(traj)
        remaining = remaining[~inside_r]
    return boxes, trajectories, notes


def paste(
    x: pd.DataFrame,
    y: np.ndarray,
    limits: dict[str, tuple[float, float]],
    *,
    paste_alpha: float = 0.05,
    mass_min: float = 0.05,
    prim_obj: Any = None,
) -> dict[str, tuple[float, float]]:
    """Paste a box: widen one restricted side at a time by ``paste_alpha`` of
    the rows beyond it, while that raises density (Friedman and Fisher 1999,
    section 8). Uses the ``prim`` package's pasting step.

    Parameters
    ----------
    x, y : the rows the box was found on, and their cases of interest.
    limits : the box (restricted factors only).
    prim_obj : prim.Prim, optional
        The ``Prim`` object over ``x, y`` if one exists already.

    Returns
    -------
    dict
        The pasted box's restricted factors.
    """
    import prim
    from prim.prim_box import PrimBox

    p = (
        prim_obj
        if prim_obj is not None
        else prim.Prim(
            x.reset_index(drop=True),
            np.asarray(y, dtype=bool),
            threshold=0.5,
            threshold_type=">",
            paste_alpha=paste_alpha,
            mass_min=mass_min,
        )
    )
    lims = np.copy(p._box_init)
    for name, (lo, hi) in limits.items():  # within the data's own range, as the package expects
        lims[name][0] = max(lo, float(p._box_init[name][0]))
        lims[name][1] = min(hi, float(p._box_init[name][1]))
    inside = np.nonzero(in_limits(x, limits))[0]
    box = PrimBox(p, lims, inside)
    # the package pastes only the last box of a peeling trajectory (inside find_box); this
    # applies the same step to the box the rule chose
    box = p._paste(box)
    return _restricted(box._box_lims[-1], x)


def discover(
    x: pd.DataFrame,
    values: np.ndarray,
    *,
    metric: str,
    direction: str,
    threshold: float,
    method: str = "prim",
    min_density: float = DEFAULT_MIN_DENSITY,
    box: int | None = None,
    max_boxes: int = 3,
    peel_alpha: float = 0.05,
    paste_alpha: float = 0.05,
    mass_min: float = 0.05,
    max_depth: int = 4,
    noun: str = "rows",
) -> Discovery:
    """Find boxes of factor values where ``metric`` is below/above ``threshold``.

    Parameters
    ----------
    x : pandas.DataFrame
        Numeric factor columns, one row per case (future).
    values : numpy.ndarray
        The metric, one value per row (NaN rows are dropped, with a note).
    metric, direction, threshold :
        Cases of interest are ``values < threshold`` (``"below"``) or
        ``values > threshold`` (``"above"``).
    method : {"prim", "cart"}
    min_density : float
        Box rule: the PRIM box with the most coverage among those with at
        least this density (the densest when none has); CART leaves with at
        least this density, by coverage.
    box : int, optional
        PRIM: take this step of the first peeling trajectory instead.
    max_boxes : int
        At most this many boxes (PRIM: later boxes only if they meet
        ``min_density``).
    peel_alpha, paste_alpha, mass_min : float
        PRIM settings (share peeled or pasted per step; smallest box mass).
    max_depth : int
        CART: depth of the tree.
    noun : str
        What a row is, for sentences.

    Returns
    -------
    Discovery

    Raises
    ------
    UserError
        No row, or every row, is a case of interest; bad settings.
    """
    if method not in METHODS:
        raise UserError(f"--method {method!r} is not allowed: expected prim or cart")
    for name, v in (
        ("--min-density", min_density),
        ("--peel-alpha", peel_alpha),
        ("--paste-alpha", paste_alpha),
        ("--mass-min", mass_min),
    ):
        if not 0 < v <= 1:
            raise UserError(f"{name} {v} is not allowed: expected a number in (0, 1]")
    values = np.asarray(values, dtype=float)
    x = x.astype(float).reset_index(drop=True)
    keep = np.isfinite(values) & np.isfinite(x.to_numpy()).all(axis=1)
    notes = []
    if not keep.all():
        notes.append(f"dropped {int((~keep).sum())} rows with a missing value")
        x, values = x[keep].reset_index(drop=True), values[keep]
    if len(values) == 0:
        raise UserError(f"--metric {metric}: no row has a finite value and factor values; nothing to analyse")
    y = cases_of_interest(values, direction, threshold)
    word = "below" if direction == "below" else "above"
    if not y.any():
        lo, hi = np.nanmin(values), np.nanmax(values)
        raise UserError(
            f"--{word} {threshold:g}: no row has {metric} {word} {threshold:g} "
            f"(it ranges from {lo:.4g} to {hi:.4g}); choose another threshold"
        )
    if y.all():
        raise UserError(
            f"--{word} {threshold:g}: every row has {metric} {word} {threshold:g}; "
            "there is nothing to tell apart; choose another threshold"
        )
    tree = None
    if method == "prim":
        boxes, trajs, more = _prim(
            x,
            y,
            min_density=min_density,
            box=box,
            max_boxes=max_boxes,
            peel_alpha=peel_alpha,
            paste_alpha=paste_alpha,
            mass_min=mass_min,
        )
        rule = (
            f"box {box} of the peeling trajectory (--box), then pasted"
            if box is not None
            else f"the box with the most coverage among those with density >= {min_density:.2f} "
            "(fewest restricted factors on ties), then pasted while density rises"
        )
    else:
        from civsim.experiments.discovery_cart import cart_boxes

        boxes, more, tree = cart_boxes(
            x, y, min_density=min_density, max_boxes=max_boxes, mass_min=mass_min, max_depth=max_depth
        )
        trajs, rule = (
            [],
            (
                f"leaves of a depth-{max_depth} classification tree with density >= "
                f"{min_density:.2f}, by coverage"
            ),
        )
    for k, b in enumerate(boxes):
        weak = [f"{n} (quasi-p {q:.2f})" for n, q in b.qp.items() if q > 0.05]
        if weak:
            more.append(
                f"box {k + 1}: the restriction on {', '.join(weak)} is not significant at 0.05; "
                "it may be noise"
            )
    return Discovery(
        method,
        metric,
        direction,
        float(threshold),
        list(x.columns),
        x,
        y,
        boxes,
        trajs,
        rule,
        noun,
        notes + more,
        tree,
    )


from civsim.experiments.discovery_text import (  # noqa: E402 - re-exported: one import for users
    box_sentence,
    boxes_json,
    describe_factor,
    details_json,
    sentences,
)

__all__ = [
    "Box",
    "Discovery",
    "box_sentence",
    "boxes_json",
    "cases_of_interest",
    "describe_factor",
    "details_json",
    "discover",
    "in_limits",
    "paste",
    "quasi_p",
    "sentences",
]
