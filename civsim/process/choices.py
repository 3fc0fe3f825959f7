"""Choices of a workshop room's seats (pledges and focus), the same in both engines.

Part of :mod:`civsim.process`; see its docstring for shapes and conventions.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def pledge_rows(n: int, rows: list[int] | np.ndarray, targets: Any) -> np.ndarray:
    """Pledge rows (len(rows), n): each row names ``targets``, never itself.

    A pledge is one-sided (row a names b); the engines treat a pair as pledged
    when either side named the other, so dropping a name withdraws only one's own pledge.
    """
    out = np.zeros((len(rows), n), dtype=bool)
    out[:, list(targets)] = True
    out[np.arange(len(rows)), list(rows)] = False
    return out


def hood_slots(net_hood: np.ndarray, hoods: Any) -> np.ndarray:
    """The network slots of neighbourhoods ``hoods``, in slot order."""
    return np.flatnonzero(np.isin(net_hood, list(hoods)))


def ally_targets(net_hood: np.ndarray, S: int, agencies: Any, hoods: Any) -> list[int]:
    """Rows of the alliance graph (slots, then S + agency) of the named hoods' networks and agencies."""
    return [int(s) for s in hood_slots(net_hood, hoods)] + [S + int(a) for a in agencies]
