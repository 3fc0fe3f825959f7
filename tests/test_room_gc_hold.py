"""civsim.rooms.gc_hold: no automatic garbage collection while a year's results go out, then on again."""

from __future__ import annotations

import gc
import time

import pytest

from civsim.rooms import gc_hold
from tests.test_rooms import claim_all, new_room


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(gc_hold, "_now", lambda: now[0])
    monkeypatch.setattr(gc_hold, "_state", {"until": None, "started": 0.0, "ended": -1e9})
    monkeypatch.setattr(gc_hold, "_start_releaser", lambda: None)  # the test releases by hand
    gc.enable()
    yield now
    gc.enable()


def test_a_year_holds_collection_until_its_results_have_had_time_to_go_out(clock):
    assert gc_hold.hold(6.0) and not gc.isenabled() and gc_hold.held()
    clock[0] += 3.0
    gc_hold.extend(6.0)  # results published at t+3: held until t+9
    clock[0] += 5.0
    assert not gc_hold.release_if_due() and not gc.isenabled()
    clock[0] += 1.5
    assert gc_hold.release_if_due() and gc.isenabled() and not gc_hold.held()
    assert not gc_hold.release_if_due()


def test_back_to_back_years_cannot_starve_the_collector(clock):
    assert gc_hold.hold(6.0)
    for _ in range(40):  # a year every second keeps extending the hold ...
        clock[0] += 1.0
        gc_hold.extend(6.0)
        if gc_hold.release_if_due():
            break
    assert gc.isenabled() and clock[0] - 1000.0 <= gc_hold.MAX_HOLD_SECONDS + 1  # ... for at most the cap
    assert not gc_hold.hold(6.0) and gc.isenabled()  # and collection stays on for the gap
    clock[0] += gc_hold.GAP_SECONDS
    assert gc_hold.hold(6.0) and not gc.isenabled()
    clock[0] += 7.0
    assert gc_hold.release_if_due() and gc.isenabled()


def test_collection_switched_off_by_someone_else_is_left_alone(clock):
    gc.disable()
    assert not gc_hold.hold(6.0) and not gc_hold.held()
    clock[0] += 60.0
    assert not gc_hold.release_if_due() and not gc.isenabled()
    gc.enable()


def test_a_room_year_switches_collection_off_and_the_releaser_switches_it_back_on(monkeypatch):
    monkeypatch.setattr(gc_hold, "HOLD_SECONDS", 0.5)
    monkeypatch.setattr(gc_hold, "_state", {"until": None, "started": 0.0, "ended": -1e9})
    monkeypatch.setattr(gc_hold.hold, "__defaults__", (0.5,))
    monkeypatch.setattr(gc_hold.extend, "__defaults__", (0.5,))
    gc.enable()
    reg, room, host = new_room(rounds=2)
    claim_all(room)
    room.close_round(host)
    assert not gc.isenabled()  # held from the moment the year starts
    deadline = time.monotonic() + 60
    while (room.view().state != "open" or gc_hold.held()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert room.view().state == "open" and len(room.view().rounds) == 1
    assert gc.isenabled() and not gc_hold.held()  # on again without any page waiting
