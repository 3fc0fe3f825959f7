"""Keep Python's garbage collections away from the seconds in which a year's results go out.

A full (oldest-generation) collection walks every object the server made since
it started (Solara freezes the startup state; the open pages' widgets are the
rest): with a room of 40 phones and three more rooms open, 0.3-1 s of
wall-clock time on a loaded two-core machine, and no other thread runs
meanwhile. If it falls in the seconds after a year is done, every page's
update waits for it.

So when a year starts, automatic collection is switched off (:func:`gc.disable`),
and switched on again once no room has published a year's results for
:data:`HOLD_SECONDS`: the collections then run while participants are
deciding, where a pause of a fraction of a second goes unnoticed (a small
thread, alive only while a hold lasts, switches it back on). Reference
counting frees most objects all along; only garbage in reference cycles waits,
a few seconds. A hold never lasts more than :data:`MAX_HOLD_SECONDS`, and
after one ends collection stays on for at least :data:`GAP_SECONDS`, so rooms
running years back to back cannot starve the collector.
"""

from __future__ import annotations

import gc
import threading
import time

HOLD_SECONDS = 6.0
"""How long after a room's year is published collections stay held (its pages update within ~2 s)."""
MAX_HOLD_SECONDS = 30.0
"""The longest one hold lasts, however many years start meanwhile."""
GAP_SECONDS = 5.0
"""After a hold, collection stays on at least this long."""

_lock = threading.Lock()
_state = {"until": None, "started": 0.0, "ended": -1e9}  # until: None when nothing is held


def _now() -> float:
    return time.monotonic()


def hold(seconds: float = HOLD_SECONDS) -> bool:
    """A year is starting: no automatic collection until ``seconds`` after the last :func:`extend`."""
    with _lock:
        now = _now()
        if _state["until"] is None:
            if now - _state["ended"] < GAP_SECONDS or not gc.isenabled():
                return False  # just released, or someone else switched collection off: leave it
            gc.disable()
            _state["started"] = now
            _state["until"] = now + seconds
            _start_releaser()
        else:
            _state["until"] = max(_state["until"], now + seconds)
        return True


def extend(seconds: float = HOLD_SECONDS) -> None:
    """A year's results were published: keep the hold ``seconds`` more, while the pages update."""
    with _lock:
        if _state["until"] is not None:
            _state["until"] = max(_state["until"], _now() + seconds)


def release_if_due() -> bool:
    """Switch collection back on once the hold ran out (polled by the releaser thread)."""
    until = _state["until"]
    if until is None:
        return False
    now = _now()
    if now < until and now - _state["started"] < MAX_HOLD_SECONDS:
        return False
    with _lock:
        if _state["until"] is None:
            return False
        _state["until"] = None
        _state["ended"] = now
        gc.enable()
        return True


def _release_when_due() -> None:
    while not release_if_due():
        time.sleep(0.5)


def _start_releaser() -> None:
    threading.Thread(target=_release_when_due, name="civsim-gc-hold", daemon=True).start()


def held() -> bool:
    """Whether automatic collection is held off now."""
    return _state["until"] is not None
