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

The parts: :mod:`~civsim.experiments.discovery_boxes` (a box and its measures),
:mod:`~civsim.experiments.discovery_prim` and :mod:`~civsim.experiments.discovery_cart`
(the two methods) and :mod:`~civsim.experiments.discovery_text` (sentences and JSON).

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

from civsim.errors import UserError
from civsim.experiments.discovery_boxes import Box, cases_of_interest, in_limits, quasi_p
from civsim.experiments.discovery_prim import (
    _choose,  # noqa: F401 - the box rule, for old imports
    _prim,
    paste,
)

METHODS: tuple[str, ...] = ("prim", "cart")
DEFAULT_MIN_DENSITY = 0.8


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
