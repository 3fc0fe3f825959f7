"""CART boxes for scenario discovery (:func:`civsim.experiments.discovery.discover`).

A depth-limited classification tree (Breiman et al. 1984; scikit-learn's
``DecisionTreeClassifier``) splits the factor space; each leaf is a box.
Sibling leaves of the same class are merged back into their parent, since a
split that changes no prediction is not a condition.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from civsim.experiments.discovery_boxes import Box, _stats, quasi_p


def cart_boxes(
    x: pd.DataFrame, y: np.ndarray, *, min_density: float, max_boxes: int, mass_min: float, max_depth: int
) -> tuple[list[Box], list[str], Any]:
    """Boxes from the leaves of a classification tree.

    Parameters
    ----------
    x, y : factor values and cases of interest.
    min_density : leaves at least this dense are reported (by coverage);
        if none, leaves with a majority of cases; if none, the densest.
    max_boxes : at most this many.
    mass_min : smallest leaf, as a share of the rows.
    max_depth : depth of the tree.

    Returns
    -------
    boxes, notes, tree
        The boxes, notes for the reader and the fitted classifier.
    """
    from sklearn.tree import DecisionTreeClassifier

    n, total = len(y), int(y.sum())
    clf = DecisionTreeClassifier(
        max_depth=max_depth, min_samples_leaf=max(1, math.ceil(mass_min * n)), random_state=0
    )
    clf.fit(x.to_numpy(float), y.astype(int))
    tree = clf.tree_
    names = list(x.columns)
    X = x.to_numpy(float)

    def majority(node: int) -> int:
        return int(np.argmax(tree.value[node][0]))

    def regions(node: int, lims: dict[str, list[float]]) -> list[tuple[int, dict[str, list[float]]]]:
        """Leaves, with sibling leaves of the same class merged back into their parent
        (a split that changes no prediction is not a condition)."""
        if tree.children_left[node] == -1:
            return [(node, lims)]
        f, thr = names[tree.feature[node]], float(tree.threshold[node])
        lo, hi = lims.get(f, [-math.inf, math.inf])
        left = regions(int(tree.children_left[node]), {**lims, f: [lo, min(hi, thr)]})
        right = regions(int(tree.children_right[node]), {**lims, f: [max(lo, thr), hi]})
        if len(left) == len(right) == 1 and majority(left[0][0]) == majority(right[0][0]):
            return [(node, lims)]
        return left + right

    member = clf.decision_path(X).tocsc()
    candidates = []
    for node, lims in regions(0, {}):
        inside = member[:, node].toarray().ravel().astype(bool)
        if not inside.any():
            continue
        cov, den, mas, rows, cases = _stats(inside, y, n, total)
        # a side "<= thr" / "> thr" is reported as the data's own extent inside the region
        limits = {}
        for f, (lo, hi) in lims.items():
            v = x.loc[inside, f]
            limits[f] = (
                float(v.min()) if lo > -math.inf else float(x[f].min()),
                float(v.max()) if hi < math.inf else float(x[f].max()),
            )
            if limits[f] == (float(x[f].min()), float(x[f].max())):
                del limits[f]
        candidates.append(Box(limits, cov, den, mas, rows, cases, quasi_p(x, y, limits)))
    notes = []
    good = [b for b in candidates if b.density >= min_density - 1e-12]
    if not good:
        good = [b for b in candidates if b.density > 0.5]
        notes.append(f"no leaf reaches density {min_density:.2f}; reporting leaves where most rows are cases")
    if not good:
        good = [max(candidates, key=lambda b: b.density)]
        notes[-1] = f"no leaf has a majority of cases; reporting the densest ({good[0].density:.2f})"
    good.sort(key=lambda b: (-b.coverage, len(b.limits)))
    return good[:max_boxes], notes, clf
