"""PRIM boxes for scenario discovery (:func:`civsim.experiments.discovery.discover`).

Peeling and pasting come from the ``prim`` package (the EMA Workbench implementation,
Kwakkel 2017); the box is chosen on the peeling trajectory by the stated rule, then
pasted with the package's own pasting step, and later boxes are found on the rows no
earlier box holds (Friedman and Fisher 1999).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from civsim.errors import UserError
from civsim.experiments.discovery_boxes import Box, _stats, in_limits, quasi_p


def _restricted(lims: Any, x: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """Restricted factors of a ``prim`` box (a structured array [low, high]) on rows ``x``."""
    out = {}
    for name in x.columns:
        lo, hi = float(lims[name][0]), float(lims[name][1])
        dmin, dmax = float(x[name].min()), float(x[name].max())
        if lo > dmin or hi < dmax:
            out[name] = (lo, hi)
    return out


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
