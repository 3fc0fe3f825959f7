"""One live run for the Explore and Workshop pages (no UI code here).

A :class:`LiveRun` wraps a one-run :class:`civsim.batch.BatchModel` (the
vectorised core, docked to the Mesa engine) and hands the pages immutable
:class:`Snapshot` objects, so drawing never races with stepping. Each page
component creates its own LiveRun (per browser session).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from civsim import params as P
from civsim import seeding
from civsim.batch import BatchModel
from civsim.metrics import group_names
from civsim.world import SECTORS

INTERVENTION_LABELS: dict[str, str] = {
    "cut_budget": "Budget cut",
    "shock_economic": "Economic shock",
    "shock_environmental": "Environmental shock",
    "convene": "Partnership convened",
    "fund_networks": "Networks funded",
    "open_coproduction": "Agencies opened to co-production",
}
"""Short labels for the live interventions, used on plots and in the story."""

SHARE_INTERVENTIONS = ("cut_budget", "convene", "fund_networks")
"""Interventions whose size is a share of the budget (shown as a percentage)."""
SIZE_WORDS = {"shock_economic": "size", "shock_environmental": "size", "open_coproduction": "openness"}


def intervention_size(name: str, value: float) -> str:
    """An intervention's size as shown to people: '10%', 'size 0.20', 'openness 0.80'."""
    if name in SHARE_INTERVENTIONS:
        return f"{100 * float(value):.0f}%"
    return f"{SIZE_WORDS.get(name, 'value')} {float(value):.2f}"


def intervention_text(name: str, value: float) -> str:
    """Label and size: 'Budget cut 10%', 'Economic shock (size 0.20)'."""
    label = INTERVENTION_LABELS.get(name, name)
    size = intervention_size(name, value)
    return f"{label} {size}" if name in SHARE_INTERVENTIONS else f"{label} ({size})"


@dataclass(frozen=True)
class Snapshot:
    """What the pages draw: the series so far and the live state of run 0."""

    month: int
    frame: pd.DataFrame
    domains: tuple[str, ...]
    groups: list[str]
    n_hoods: int
    alive: np.ndarray
    net_hood: np.ndarray
    net_focus: np.ndarray
    net_members: np.ndarray
    ally: np.ndarray
    coord: np.ndarray
    sector: np.ndarray
    remit: np.ndarray
    cross_impact: np.ndarray
    interventions: tuple[tuple[int, str, float], ...] = ()
    sectors: tuple[str, ...] = SECTORS
    extra: dict[str, Any] = field(default_factory=dict)

    def latest(self, column: str) -> float:
        return float(self.frame[column].iloc[-1])

    def hood_values(self) -> list[float]:
        return [self.latest(f"outcome_hood_{m}") for m in range(self.n_hoods)]

    def domain_values(self) -> dict[str, float]:
        return {d: self.latest(f"outcome_{d}") for d in self.domains}


class LiveRun:
    """A single run that can be stepped, intervened on and snapshotted, thread-safely.

    Parameters
    ----------
    overrides : dict
        Parameter overrides (validated by :func:`civsim.params.resolve`).
    seed : int
        The run's seed (the same stream as ``civsim run --seed``).
    """

    def __init__(self, overrides: dict[str, Any], seed: int = 0):
        self.overrides = dict(overrides)
        self.seed = int(seed)
        self.params = P.resolve(self.overrides)
        self._lock = threading.Lock()
        self.model = BatchModel([self.params], [seeding.run_sequence(self.seed)])
        self._snapshot = self._take()

    @property
    def month(self) -> int:
        return int(self.model.month)

    def step(self, months: int = 1) -> Snapshot:
        """Advance ``months`` months and return the new snapshot."""
        with self._lock:
            for _ in range(int(months)):
                self.model.step()
            self._snapshot = self._take()
            return self._snapshot

    def intervene(self, name: str, value: float) -> Snapshot:
        """Apply a live intervention now (see :meth:`civsim.batch.BatchModel.intervene`)."""
        with self._lock:
            self.model.intervene(name, float(value))
            self._snapshot = self._take()
            return self._snapshot

    def snapshot(self) -> Snapshot:
        return self._snapshot

    def _take(self) -> Snapshot:
        m = self.model
        frame = m.frame()
        frame = frame[frame["run"] == 0].reset_index(drop=True)
        return Snapshot(
            month=int(m.month),
            frame=frame,
            domains=tuple(m.domains),
            groups=group_names(m.dims.G),
            n_hoods=int(m.dims.M),
            alive=m.alive[0].copy(),
            net_hood=np.asarray(m.net_hood).copy(),
            net_focus=m.net_focus[0].copy(),
            net_members=m.net_members[0].copy(),
            ally=m.ally[0].copy(),
            coord=m.coord[0].copy(),
            sector=m.sector[0].copy(),
            remit=m.remit[0].copy(),
            cross_impact=np.asarray(m.cross_impact).copy(),
            interventions=tuple(m.interventions),
            # the council's budget now: an intervention changes it before the next step is recorded
            extra={"budget_now": float(np.asarray(m.council["budget"])[0])},
        )
