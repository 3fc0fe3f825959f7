"""What a page sees of a room: immutable snapshots (:class:`RoomView`) and the records in them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from civsim.rooms.game import RoundRecord


@dataclass
class Participant:
    token: str
    seat: str | None  # None: observer
    name: str
    joined: float
    seen: float


@dataclass(frozen=True)
class SeatStatus:
    id: str
    title: str
    kind: str
    holder: str | None
    decided: bool
    agencies: tuple[int, ...]


@dataclass(frozen=True)
class RoomView:
    """Everything a page draws about a room at one moment (never mutated after it is built)."""

    code: str
    version: int
    state: str  # "open", "running", "finished"
    story: str
    description: str
    round: int
    n_rounds: int
    seats: tuple[SeatStatus, ...]
    observers: tuple[str, ...]
    deadline: float | None
    frame: pd.DataFrame
    rounds: tuple[RoundRecord, ...]
    standing: dict[str, dict[str, float]]
    facts: dict[str, list[tuple[str, str]]]
    graph: dict[str, Any]
    domains: tuple[str, ...]
    groups: tuple[str, ...]
    params: dict[str, float]
    error: str = ""
    shared: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """Drawings of the picture (the year's numbers and story), made once and shared by every view of it."""
    memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """Drawings of this view (seats included), made once for every page that shows it."""

    def drawn(self, name: str, draw: Any, shared: bool = False) -> Any:
        """``draw(self)``, computed once per view (``shared``: once per year's picture) for all pages."""
        cache = self.shared if shared else self.memo
        try:
            return cache[name]
        except KeyError:
            value = cache[name] = draw(self)  # two pages racing draw the same string: harmless
            return value

    def latest(self, column: str) -> float:
        return float(self.frame[column].iloc[-1])
