"""One workshop room: seats, decisions, the host's controls and the year run in a worker.

Locking is described in :mod:`civsim.rooms.registry`: ``Room._lock`` guards the room's
state, ``Room._run_lock`` the model while a year runs outside ``Room._lock``.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from civsim.params import ParamError
from civsim.rooms import gc_hold
from civsim.rooms.game import Game
from civsim.rooms.room_limits import MAX_PARTICIPANTS, MAX_TIMER, RoomError, clean_name
from civsim.rooms.room_view import Participant, RoomView, SeatStatus
from civsim.rooms.seats import Seat, validate_choice

_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="civsim-room")


class Room:
    """One workshop room. Use it through :class:`Registry`; every method checks a token."""

    def __init__(self, code: str, game: Game, clock: Callable[[], float]):
        self.code = code
        self.host_token = secrets.token_urlsafe(16)
        self.game = game
        self._clock = clock
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._run_lock = threading.Lock()
        self.created = self.last_activity = clock()
        self.version = 0
        self.participants: dict[str, Participant] = {}
        self.holder: dict[str, str] = {}  # seat id -> token
        self.pending: dict[str, dict[str, Any]] = {}
        self.state = "open"
        self.deadline: float | None = None
        self.error = ""
        self._picture = self._take_picture()
        self._view = self._build_view()

    # ------------------------------------------------------------------ helpers (hold _lock)
    def _touch(self) -> None:
        self.last_activity = self._clock()

    def _bump(self) -> None:
        self.version += 1
        self._view = self._build_view()
        self._changed.notify_all()

    def _participant(self, token: str) -> Participant:
        p = self.participants.get(str(token or ""))
        if p is None:
            raise RoomError(
                "this device is not in the room (its seat token is unknown): join again with the code"
            )
        p.seen = self._clock()
        return p

    def _deciding_seats(self) -> list[Seat]:
        return [s for s in self.game.seats if s.decides and s.id in self.holder]

    def _take_picture(self) -> dict[str, Any]:
        """The model-derived part of the view; taken only while no year is running."""
        g = self.game
        m = g.model
        graph = {
            "alive": m.alive[0].copy(),
            "net_hood": m.net_hood.copy(),
            "net_members": m.net_members[0].copy(),
            "ally": m.ally[0].copy(),
            "coord": m.coord[0].copy(),
            "sector": m.sector[0].copy(),
            "n_hoods": int(m.dims.M),
            "agency_budget": m.agencies["budget"][0].copy(),
            "openness": m.openness[0].copy(),
            "remit": m.remit[0].copy(),
            "weights": m.council["weights"][0].copy(),
            "budget_now": float(m.council["budget"][0]),
        }
        return {
            "frame": g.frame(),
            "rounds": tuple(g.rounds),
            "standing": {k: dict(v) for k, v in g.standing.items()},
            "facts": {s.id: g.seat_facts(s) for s in g.seats},
            "graph": graph,
            "domains": tuple(m.domains),
            "groups": tuple(g.group_names),
            "round": min(g.round_no, g.n_rounds),
            "params": {k: float(v[0]) for k, v in m.P.items() if v.ndim == 1},
            "drawn": {},  # the pages' drawings of this picture, shared by the views built from it
        }

    def _build_view(self) -> RoomView:
        g = self.game
        seats = tuple(
            SeatStatus(
                s.id,
                s.title,
                s.kind,
                self.participants[self.holder[s.id]].name if s.id in self.holder else None,
                s.id in self.pending,
                s.agencies,
            )
            for s in g.seats
        )
        pic = self._picture
        return RoomView(
            code=self.code,
            version=self.version,
            state=self.state,
            story=g.scenario.name,
            description=g.scenario.description,
            round=pic["round"],
            n_rounds=g.n_rounds,
            seats=seats,
            observers=tuple(p.name for p in self.participants.values() if p.seat is None),
            deadline=self.deadline,
            frame=pic["frame"],
            rounds=pic["rounds"],
            standing=pic["standing"],
            facts=pic["facts"],
            graph=pic["graph"],
            domains=pic["domains"],
            groups=pic["groups"],
            params=pic["params"],
            error=self.error,
            shared=pic["drawn"],
        )

    # ------------------------------------------------------------------ participants
    def claim(self, seat_id: str | None, name: Any) -> str:
        """Take a free seat (``None``: watch as an observer); returns the new secret token."""
        with self._lock:
            if len(self.participants) >= MAX_PARTICIPANTS:
                raise RoomError(f"room {self.code} is full ({MAX_PARTICIPANTS} people)")
            if seat_id is not None:
                ids = [s.id for s in self.game.seats]
                if seat_id not in ids:
                    raise RoomError(f"seat {str(seat_id)[:40]!r} is not offered in this room")
                if seat_id in self.holder:
                    raise RoomError(
                        "that seat is taken: choose another, or rejoin from the device that took it"
                    )
            token = secrets.token_urlsafe(16)
            now = self._clock()
            self.participants[token] = Participant(token, seat_id, clean_name(name), now, now)
            if seat_id is not None:
                self.holder[seat_id] = token
            self._touch()
            self._bump()
            return token

    def rejoin(self, token: str) -> Participant:
        """The participant a token belongs to (a dropped phone gets its seat back)."""
        with self._lock:
            p = self._participant(token)
            self._touch()
            return p

    def leave(self, token: str) -> None:
        """Give up a seat (it becomes free for someone else)."""
        with self._lock:
            p = self._participant(token)
            del self.participants[token]
            if p.seat is not None and self.holder.get(p.seat) == token:
                del self.holder[p.seat]
                self.pending.pop(p.seat, None)
            self._touch()
            self._bump()

    def decide(self, token: str, values: Mapping[str, Any]) -> None:
        """Record this round's decision for the token's own seat (validated against the schema)."""
        with self._lock:
            p = self._participant(token)
            if p.seat is None:
                raise RoomError("observers watch; they do not decide")
            if self.state != "open":
                raise RoomError("the year is running or the game is over: wait for the next round")
            seat = self.game.seat(p.seat)
            try:
                choice = validate_choice(seat, values, self.game.locality)
            except ParamError as exc:
                raise RoomError(str(exc)) from None
            self.pending[seat.id] = choice
            self._touch()
            if all(s.id in self.pending for s in self._deciding_seats()):
                self._start_run()
            else:
                self._bump()

    # ------------------------------------------------------------------ host
    def check_host(self, token: str) -> None:
        if not secrets.compare_digest(str(token or ""), self.host_token):
            raise RoomError("only the host of this room can do that")

    def close_round(self, host_token: str) -> None:
        """Run the year now, with the decisions made so far (others keep their standing choices)."""
        with self._lock:
            self.check_host(host_token)
            if self.state != "open":
                raise RoomError("the year is already running or the game is over")
            self._touch()
            self._start_run()

    def set_timer(self, host_token: str, seconds: float | None) -> None:
        """Close the round automatically after ``seconds`` (None: no timer)."""
        with self._lock:
            self.check_host(host_token)
            if seconds is not None and not 5 <= float(seconds) <= MAX_TIMER:
                raise RoomError(f"timer = {seconds!r} s is not allowed: expected 5 to {MAX_TIMER} seconds")
            self.deadline = None if seconds is None else self._clock() + float(seconds)
            self._touch()
            self._bump()

    def tick(self) -> None:
        """Close the round if its timer ran out (called by waiters; no thread of its own)."""
        with self._lock:
            if self.state == "open" and self.deadline is not None and self._clock() >= self.deadline:
                self._start_run()

    def _start_run(self) -> None:
        choices = dict(self.pending)
        self.state = "running"
        self.deadline = None
        self._bump()
        gc_hold.hold()  # no automatic garbage collection while the year runs and its results go out
        _pool.submit(self._run_year, choices)

    def _run_year(self, choices: dict[str, dict[str, float]]) -> None:
        error = ""
        with self._run_lock:
            try:
                self.game.play_round(choices)
            except Exception as exc:  # shown to the room as one line
                first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                error = f"the year could not be run: {first}"
            picture = self._take_picture()
        with self._lock:
            self._picture = picture
            self.pending = {}
            self.error = error
            self.state = "finished" if self.game.finished else "open"
            self._touch()
            self._bump()
        gc_hold.extend()

    def run_now(self, choices: dict[str, dict[str, float]] | None = None) -> None:
        """Run the pending year in this thread (tests and scripts); same path as the worker."""
        with self._lock:
            if self.state != "open":
                raise RoomError("the year is already running or the game is over")
            pending = dict(self.pending if choices is None else choices)
            self.state = "running"
            self._bump()
        self._run_year(pending)

    # ------------------------------------------------------------------ reading
    def view(self) -> RoomView:
        return self._view

    def wait(self, since: int, timeout: float = 1.0) -> int:
        """Block until the version exceeds ``since`` or ``timeout`` passes; return the version."""
        self.tick()
        with self._lock:
            if self.version <= since:
                self._changed.wait(timeout)
            return self.version

    def debrief(self, host_token: str, n_seeds: int = 8) -> dict[str, Any]:
        self.check_host(host_token)
        with self._run_lock:
            return self.game.replay(n_seeds)

    def export(self, host_token: str) -> dict[str, str]:
        self.check_host(host_token)
        with self._run_lock:
            return self.game.export(f"room-{self.code.lower()}")
