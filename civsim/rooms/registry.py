"""The rooms' shared layer on the server: one registry, explicit locks, a small interface.

Solara keeps state per browser tab, so everything several tabs must see (a
room, its seats, its rounds) lives here, in one process-wide
:class:`Registry`. Every public method takes the room's code and, to act, a
secret token; nothing is reachable by guessing a seat's name.

Locking
-------
``Registry._lock`` guards the code -> room table only. Each :class:`Room` has
its own lock (``Room._lock``, with the condition ``Room._changed`` waiters
sleep on); a room never takes another room's lock, so rooms cannot block or
see each other. A year runs in a worker thread under ``Room._run_lock``,
outside ``Room._lock``, so joins, decisions and views stay responsive while
the model steps; the result is published as a new immutable
:class:`RoomView` and the version number rises.

Safety
------
- join codes: 6 symbols from a 32-symbol alphabet drawn with :mod:`secrets`
  (about 10^9 codes; a wrong code gives the same one-line answer whether or
  not a room exists);
- seat tokens and the host token: 128-bit :func:`secrets.token_urlsafe`;
  a token acts only for its own seat in its own room;
- caps: rooms per server, participants per room, name length, rounds;
- idle rooms expire (no activity for :data:`IDLE_SECONDS`);
- names typed by participants are cleaned of control characters and
  length-capped here, and escaped wherever a page draws them as HTML.

Modules: :mod:`~civsim.rooms.room` (:class:`Room`), :mod:`~civsim.rooms.room_view`
(:class:`RoomView`, what pages draw) and :mod:`~civsim.rooms.room_limits` (caps,
codes, names, :class:`RoomError`); this module holds the :class:`Registry` and
re-exports the rest.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from civsim.errors import UserError
from civsim.params import ParamError
from civsim.rooms.game import Game
from civsim.rooms.room import Room
from civsim.rooms.room_limits import (
    CODE_ALPHABET,
    CODE_LENGTH,
    IDLE_SECONDS,
    MAX_NAME,  # noqa: F401 - re-exported
    MAX_PARTICIPANTS,  # noqa: F401 - re-exported
    MAX_ROOMS,
    MAX_ROUNDS,
    MAX_TIMER,  # noqa: F401 - re-exported
    RoomError,
    clean_name,
    normalise_code,
)
from civsim.rooms.room_view import (
    Participant,  # noqa: F401 - re-exported
    RoomView,
    SeatStatus,
)
from civsim.rooms.seats import make_seats
from civsim.scenario import Scenario


class Registry:
    """Every room on this server, by join code.

    Parameters
    ----------
    clock : callable
        Seconds now (``time.monotonic``); tests pass a fake clock.
    max_rooms, idle_seconds : int
        Caps (see the module docstring).
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        max_rooms: int = MAX_ROOMS,
        idle_seconds: float = IDLE_SECONDS,
    ):
        self._clock = clock
        self._lock = threading.Lock()
        self._rooms: dict[str, Room] = {}
        self.max_rooms = max_rooms
        self.idle_seconds = idle_seconds

    def create(self, scenario: Scenario, offer: Mapping[str, int], rounds: int = 5) -> tuple[str, str]:
        """Open a room on ``scenario`` with the seats in ``offer``; returns ``(code, host_token)``."""
        if isinstance(rounds, bool) or not isinstance(rounds, int) or not 1 <= rounds <= MAX_ROUNDS:
            raise RoomError(f"rounds = {rounds!r} is not allowed: expected an integer in [1, {MAX_ROUNDS}]")
        try:
            n_agencies = int(scenario.resolved["n_agencies"])
            n_hoods = int(scenario.resolved["n_neighbourhoods"])
            seats = make_seats(dict(offer), n_agencies, n_hoods)
            game = Game(scenario, seats, rounds)
        except (ParamError, UserError, ValueError) as exc:
            raise RoomError(str(exc).splitlines()[0]) from None
        with self._lock:
            self._expire_locked()
            if len(self._rooms) >= self.max_rooms:
                raise RoomError(
                    f"this server already runs {self.max_rooms} rooms: close one or wait for one to expire"
                )
            while True:
                code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
                if code not in self._rooms:
                    break
            room = Room(code, game, self._clock)
            self._rooms[code] = room
        return code, room.host_token

    def get(self, code: Any) -> Room:
        """The room with this code (any case); one line if there is none (or it expired)."""
        c = normalise_code(code)
        with self._lock:
            self._expire_locked()
            room = self._rooms.get(c)
        if room is None:
            raise RoomError(f"no open room has the code {c or '(empty)'}: check the code on the screen")
        return room

    def close(self, code: str, host_token: str) -> None:
        room = self.get(code)
        room.check_host(host_token)
        with self._lock:
            self._rooms.pop(room.code, None)

    def expire(self) -> list[str]:
        """Remove rooms idle for longer than ``idle_seconds``; return their codes."""
        with self._lock:
            return self._expire_locked()

    def _expire_locked(self) -> list[str]:
        now = self._clock()
        gone = [c for c, r in self._rooms.items() if now - r.last_activity > self.idle_seconds]
        for c in gone:
            del self._rooms[c]
        return gone

    def holds(self, room: Room) -> bool:
        """True while ``room`` is open here (not closed or expired): page watchers stop when it is not."""
        with self._lock:
            self._expire_locked()
            return self._rooms.get(room.code) is room

    def __len__(self) -> int:
        with self._lock:
            return len(self._rooms)


REGISTRY = Registry()
"""The server's rooms (module level on purpose: shared by every browser tab of this process)."""


__all__ = [
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "REGISTRY",
    "Registry",
    "Room",
    "RoomError",
    "RoomView",
    "SeatStatus",
    "clean_name",
    "normalise_code",
]
