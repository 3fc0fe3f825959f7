"""Shared pieces of the locality processes: stacked parameters, yearly paths, broadcasting.

Part of :mod:`civsim.process`; see its docstring for shapes and conventions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from civsim.params import SCHEMA

Params = dict[str, np.ndarray]


def stack_params(points: list[dict[str, Any]]) -> Params:
    """Turn B resolved parameter dicts into one (B,) array per numeric parameter."""
    out: Params = {}
    for name, p in SCHEMA.items():
        if p.type in ("float", "int", "bool"):
            out[name] = np.array([pt[name] for pt in points], dtype=float)
        elif p.type == "choice":
            out[name] = np.array([p.choices.index(pt[name]) for pt in points])
        elif p.type == "series":
            out[name] = _pad_series([pt[name] for pt in points])
    return out


def _pad_series(series: list[tuple[float, ...]]) -> np.ndarray:
    """(B, Y) yearly paths, each padded with its last value; NaN rows for empty paths."""
    width = max(1, *(len(s) for s in series))
    out = np.full((len(series), width), np.nan)
    for b, s in enumerate(series):
        if s:
            out[b, : len(s)] = s
            out[b, len(s) :] = s[-1]
    return out


def path_factor(path: np.ndarray, year: int, default: np.ndarray) -> np.ndarray:
    """A yearly path's value in ``year`` (the last value holds), or ``default`` where it is empty."""
    value = path[:, min(year, path.shape[1] - 1)]
    return np.where(np.isnan(value), default, value)


def col(x: np.ndarray, ndim: int) -> np.ndarray:
    """Reshape a (B,) array to broadcast against arrays of ``ndim`` dims."""
    return x.reshape(x.shape[0], *([1] * (ndim - 1)))
