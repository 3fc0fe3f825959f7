"""Workshop rooms (issue 14): seats, rounds, decisions applied, safety, reproducibility.

Nothing here depends on what today's mechanisms produce: tests compare a room
with the same model run directly, check where decisions land in the model's
parameters, and check the room's own bookkeeping.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from civsim import seeding
from civsim.batch import BatchModel
from civsim.errors import UserError
from civsim.params import SCHEMA, ParamError, resolve
from civsim.rooms import plan as plan_mod
from civsim.rooms.plan import Change, Plan, apply_change, parse_decisions
from civsim.rooms.registry import CODE_ALPHABET, CODE_LENGTH, MAX_NAME, Registry, RoomError, clean_name
from civsim.rooms.seats import SEAT_KINDS, levers, make_seats, validate_choice
from civsim.scenario import Scenario
from civsim.simulate import simulate

CIVSIM = Path(sys.executable).parent / "civsim"
SMALL = Scenario(
    name="small", description="a small test locality", params={"n_citizens": 300}, seed=5, steps=60
)
OFFER = {"council": 1, "agency": 3, "network": 2, "panel": 1}


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def new_room(reg: Registry | None = None, rounds: int = 3, offer=OFFER):
    reg = reg or Registry()
    code, host = reg.create(SMALL, offer, rounds)
    return reg, reg.get(code), host


def claim_all(room):
    return {s.id: room.claim(s.id, s.id) for s in room.game.seats}


def wait_round(room, round_no: int, timeout: float = 60) -> None:
    end = time.time() + timeout
    v = room.view()
    while not (v.state in ("open", "finished") and len(v.rounds) >= round_no - 1 and v.version > 0):
        room.wait(v.version, 0.5)
        v = room.view()
        assert time.time() < end, f"round {round_no} not reached: {v.state} {len(v.rounds)}"


def wait_rounds_played(room, n: int, timeout: float = 60) -> None:
    end = time.time() + timeout
    while not (len(room.view().rounds) >= n and room.view().state != "running"):
        room.wait(room.view().version, 0.5)
        assert time.time() < end


# ---------------------------------------------------------------------------- seats


def test_lever_table_reads_the_schema():
    for kind in SEAT_KINDS.values():
        for lv in kind.levers:
            assert lv.param in SCHEMA, lv.param
            assert lv.scope in ("own", "shared", "portfolio")
            assert lv.cost({}, 1.0)  # every lever says what it costs
    assert levers("observer") == ()


@pytest.mark.parametrize("n", [2, 3, 4, 5, 6])
def test_agency_seats_split_every_agency_exactly_once(n):
    seats = [s for s in make_seats({"agency": n}, 12) if s.kind == "agency"]
    assert len(seats) == n
    got = sorted(a for s in seats for a in s.agencies)
    assert got == list(range(12))


@pytest.mark.parametrize(
    "offer", [{"agency": 1}, {"agency": 7}, {"council": 2}, {"mayor": 1}, {"panel": True}, {}, {"network": 4}]
)
def test_bad_offers_are_one_line_errors(offer):
    with pytest.raises(ParamError) as e:
        make_seats(offer, 12)
    assert "\n" not in str(e.value)


def test_a_seat_can_only_set_its_own_levers_within_the_schema():
    council = make_seats({"council": 1}, 12)[0]
    assert validate_choice(council, {"convening_funds": "0.05"}) == {"convening_funds": 0.05}
    with pytest.raises(ParamError, match="cannot set 'alliance_propensity'"):
        validate_choice(council, {"alliance_propensity": 0.5})
    hi = SCHEMA["convening_funds"].max
    with pytest.raises(ParamError, match=r"expected a number in \[0, 0.2\]"):
        validate_choice(council, {"convening_funds": hi + 0.1})
    with pytest.raises(ParamError):
        validate_choice(council, {"convening_funds": math.nan})


# ---------------------------------------------------------------------------- registry


def test_codes_are_short_unguessable_and_case_insensitive():
    reg = Registry(max_rooms=50)
    codes = {reg.create(SMALL, {"council": 1}, 1)[0] for _ in range(12)}
    assert len(codes) == 12
    for c in codes:
        assert len(c) == CODE_LENGTH and set(c) <= set(CODE_ALPHABET)
    assert len(CODE_ALPHABET) == 32
    c = next(iter(codes))
    assert reg.get(f" {c.lower()[:3]}-{c.lower()[3:]} ").code == c
    with pytest.raises(RoomError, match="no open room"):
        reg.get("ZZZZZZ" if "ZZZZZZ" not in codes else "YYYYYY")


def test_seats_tokens_and_rejoin():
    reg, room, host = new_room()
    t = room.claim("council", "Ana")
    with pytest.raises(RoomError, match="taken"):
        room.claim("council", "Ben")
    with pytest.raises(RoomError, match="not offered"):
        room.claim("mayor", "Ben")
    # a dropped phone comes back with its token, to its own seat
    p = room.rejoin(t)
    assert p.seat == "council" and p.name == "Ana"
    assert room.view().seats[0].holder == "Ana"
    with pytest.raises(RoomError, match="not in the room"):
        room.rejoin("forged-token")
    # leaving frees the seat
    room.leave(t)
    room.claim("council", "Ben")
    assert room.view().seats[0].holder == "Ben"


def test_cannot_act_for_another_seat_or_in_another_room():
    reg = Registry()
    _, a, host_a = new_room(reg)
    _, b, host_b = new_room(reg)
    ta = a.claim("council", "A")
    tb_agency = b.claim("agency-1", "B")
    # the seat comes from the token, so a participant can only change their own levers
    with pytest.raises(RoomError, match="cannot set 'coproduction_openness'"):
        a.decide(ta, {"coproduction_openness": 0.5})
    # tokens and host keys do not cross rooms
    with pytest.raises(RoomError, match="not in the room"):
        a.decide(tb_agency, {"coproduction_openness": 0.9})
    with pytest.raises(RoomError, match="only the host"):
        a.close_round(host_b)
    with pytest.raises(RoomError, match="only the host"):
        a.export(host_b)
    a.decide(ta, {"convening_funds": 0.1})
    assert a.view().seats[0].decided
    assert not any(s.decided for s in b.view().seats)
    assert b.game.model is not a.game.model
    obs = a.claim(None, "watcher")
    with pytest.raises(RoomError, match="observers"):
        a.decide(obs, {"convening_funds": 0.1})


def test_caps_and_expiry():
    clock = Clock()
    reg = Registry(clock=clock, max_rooms=2, idle_seconds=100)
    c1, _ = reg.create(SMALL, {"council": 1}, 1)
    reg.create(SMALL, {"council": 1}, 1)
    with pytest.raises(RoomError, match="already runs 2 rooms"):
        reg.create(SMALL, {"council": 1}, 1)
    with pytest.raises(RoomError, match="rounds"):
        Registry().create(SMALL, {"council": 1}, 0)
    clock.t += 60
    reg.get(c1).claim(None, "keeps it alive")
    clock.t += 60  # room 2 idle 120 s, room 1 idle 60 s
    assert len(reg.expire()) == 1 and len(reg) == 1
    assert reg.get(c1)
    reg.create(SMALL, {"council": 1}, 1)  # a slot is free again
    room = reg.get(c1)
    from civsim.rooms import registry as r

    for i in range(r.MAX_PARTICIPANTS - 1):
        room.claim(None, f"p{i}")
    with pytest.raises(RoomError, match="full"):
        room.claim(None, "one too many")


def test_names_are_cleaned_and_capped():
    assert clean_name("  Ana\x00\n\t<b>x</b>  ") == "Ana <b>x</b>"
    assert len(clean_name("x" * 500)) == MAX_NAME
    assert clean_name("\u202e\u0000") == "Participant"


# ---------------------------------------------------------------------------- rounds


def test_round_runs_when_every_claimed_seat_decided():
    reg, room, host = new_room(offer={"council": 1, "panel": 1, "agency": 2})
    tc = room.claim("council", "c")
    tp = room.claim("panel", "p")
    room.claim(None, "observer")  # observers never block a round
    room.decide(tc, {"convening_funds": 0.1})
    assert room.view().state == "open" and room.view().rounds == ()
    room.decide(tp, {"voice_weight": 0.7})  # unclaimed agency seats do not block either
    wait_rounds_played(room, 1)
    v = room.view()
    assert v.state == "open" and v.round == 2 and int(v.frame["step"].iloc[-1]) == 12
    assert not any(s.decided for s in v.seats)  # a new round starts undecided
    assert any("Council leader" in line for line in v.rounds[0].story) or v.rounds[0].effects


def test_host_closes_a_round_and_timer_closes_one():
    clock = Clock()
    reg = Registry(clock=clock)
    code, host = reg.create(SMALL, {"council": 1}, 2)
    room = reg.get(code)
    room.claim("council", "c")
    room.close_round(host)
    wait_rounds_played(room, 1)
    room.set_timer(host, 30)
    clock.t += 10
    room.tick()
    assert room.view().state == "open"
    clock.t += 25
    room.tick()
    wait_rounds_played(room, 2)
    assert room.view().state == "finished"
    with pytest.raises(RoomError):
        room.close_round(host)
    with pytest.raises(RoomError, match="timer"):
        room.set_timer(host, 1)


def test_decisions_land_in_the_models_parameters():
    reg, room, host = new_room()
    tok = claim_all(room)
    g = room.game
    open0 = g.model.openness[0].copy()
    mine = list(g.seat("agency-1").agencies)
    others = [a for a in range(len(open0)) if a not in mine]
    room.decide(tok["council"], {"convening_funds": 0.1, "outreach": 0.4})
    room.decide(tok["agency-1"], {"coproduction_openness": 0.95})
    room.decide(tok["network-1"], {"alliance_propensity": 0.1})
    base_alliance = float(resolve(SMALL.params)["alliance_propensity"])
    room.close_round(host)
    wait_rounds_played(room, 1)
    P = g.model.P
    assert P["convening_funds"][0] == 0.1 and P["outreach"][0] == 0.4
    # shared levers: the mean of the seats' standing choices (unchanged seats keep the scenario's value)
    assert P["alliance_propensity"][0] == pytest.approx((0.1 + base_alliance) / 2)
    # openness: only this head's agencies
    assert np.all(g.model.openness[0, mine] == 0.95)
    assert np.array_equal(g.model.openness[0, others], open0[others])
    # the live intervention log records convening, as the Workshop's button would
    assert (0, "convene", 0.1) in g.model.interventions


def test_a_session_where_nobody_changes_anything_is_the_preset_as_it_stands():
    reg, room, host = new_room(rounds=2)
    tok = claim_all(room)
    g = room.game
    for _ in range(2):
        # every seat "decides" its standing values: no change reaches the model
        for sid, t in tok.items():
            room.decide(t, dict(room.view().standing[sid]))
        wait_rounds_played(room, len(g.rounds) + 1 if len(g.rounds) < 2 else 2)
    wait_rounds_played(room, 2)
    assert g.changes == []
    ref = BatchModel([resolve(g.overrides)], [seeding.run_sequence(SMALL.seed)]).run(24).frame()
    pd.testing.assert_frame_equal(g.frame(), ref.drop(columns="run"))


def test_story_names_seats_by_measured_effect():
    reg, room, host = new_room(rounds=1)
    tok = claim_all(room)
    room.decide(tok["council"], {"network_grants": 0.2, "convening_funds": 0.2})
    room.close_round(host)
    wait_rounds_played(room, 1)
    rec = room.view().rounds[0]
    assert set(rec.effects) == {"council"}
    di, dg = rec.effects["council"]
    text = " ".join(rec.story)
    if abs(di) >= 0.001 or abs(dg) >= 0.001:
        assert "Whose decisions mattered: Council leader" in text
        assert f"{100 * di:+.1f} points" in text
    else:
        assert "Made little difference this year" in text and "Council leader" in text
    # the effect is the difference from the same year without the council's choices
    alt = BatchModel([resolve(room.game.overrides)], [seeding.run_sequence(SMALL.seed)]).run(12).frame()
    end = room.view().frame.iloc[12]
    assert di == pytest.approx(end["outcome_index"] - alt["outcome_index"].iloc[12])


# ---------------------------------------------------------------------------- reproducibility


def play(room, host, tok, rounds=3):
    choices = [
        {
            "council": {"convening_funds": 0.08, "commissioning_outcomes": 0.5},
            "agency-2": {"coproduction_openness": 0.9},
        },
        {"panel": {"needs_targeting": 0.9, "voice_weight": 0.5}, "network-1": {"alliance_propensity": 0.05}},
        {"council": {"network_grants": 0.1}, "agency-1": {"coproduction_openness": 0.7}},
    ]
    play_rounds(room, host, tok, [choices[r % 3] for r in range(rounds)])


def play_rounds(room, host, tok, rounds: list[dict]) -> None:
    """Each round: every listed seat decides, the host closes the round, and the year runs."""
    for r, choices in enumerate(rounds):
        for sid, vals in choices.items():
            room.decide(tok[sid], vals)
        room.close_round(host)
        wait_rounds_played(room, r + 1)


def played_and_exported(tmp_path, play_fn) -> tuple:
    """A 3-round room played by ``play_fn(room, host, tok)``, its export written to ``tmp_path``."""
    reg, room, host = new_room(rounds=3)
    tok = claim_all(room)
    play_fn(room, host, tok)
    files = room.export(host)
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return room, files


def run_export(tmp_path) -> Path:
    """``civsim run scenario.toml --decisions decisions.toml`` on an export in ``tmp_path``; its out dir."""
    out = tmp_path / "run"
    r = subprocess.run(
        [str(CIVSIM), "run", str(tmp_path / "scenario.toml"), "--decisions", str(tmp_path / "decisions.toml"),
         "--out", str(out)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    return out


def test_export_reproduces_the_session_with_civsim_run(tmp_path):
    room, files = played_and_exported(tmp_path, play)
    # the library path
    sc_plan = plan_mod.load_decisions(tmp_path / "decisions.toml", 12, 36)
    assert len(sc_plan.changes) == len(room.game.changes) >= 5
    ts, _ = simulate(room.game.overrides, SMALL.seed, 36, 1, "batch", before_step=sc_plan)
    exported = pd.read_csv(tmp_path / "timeseries.csv")
    pd.testing.assert_frame_equal(ts.drop(columns="rep"), room.game.frame())
    # the command line, as a user would run it
    out = run_export(tmp_path)
    again = pd.read_csv(out / "timeseries.csv")
    pd.testing.assert_frame_equal(again, exported)
    assert (out / "timeseries.csv").read_text() == files["timeseries.csv"]


def test_replay_with_other_seeds_and_with_nobody_deciding():
    reg, room, host = new_room(rounds=2)
    tok = claim_all(room)
    play(room, host, tok, rounds=2)
    rep = room.debrief(host, n_seeds=3)
    fd = rep["decided"]
    assert sorted(fd["run"].unique()) == [0, 1, 2, 3]
    session = room.game.frame()
    pd.testing.assert_frame_equal(fd[fd["run"] == 0].drop(columns="run").reset_index(drop=True), session)
    ref = BatchModel([resolve(room.game.overrides)], [seeding.run_sequence(SMALL.seed)]).run(24).frame()
    fn = rep["nobody"]
    pd.testing.assert_frame_equal(fn[fn["run"] == 0].reset_index(drop=True), ref)
    assert rep["gain"].shape == (4,)
    assert np.allclose(rep["gain"], rep["end_decided"] - rep["end_nobody"])


@pytest.mark.parametrize(
    "body, message",
    [
        ("[[change]]\nmonth = 0\nlever = 'mayor'\nvalue = 1", "lever = 'mayor' is not allowed"),
        ("[[change]]\nmonth = 0\nlever = 'outreach'\nvalue = 3", "outreach = 3 is not allowed"),
        ("[[change]]\nmonth = 99\nlever = 'outreach'\nvalue = 0.1", "month = 99 is not allowed"),
        (
            "[[change]]\nmonth = 0\nlever = 'outreach'\nvalue = 0.1\nagencies = [1]",
            "agencies = [1] is not allowed",
        ),
        (
            "[[change]]\nmonth = 0\nlever = 'coproduction_openness'\nvalue = 0.1\nagencies = [40]",
            "agencies = [40]",
        ),
        ("[[change]]\nmonth = 0\nlever = 'n_citizens'\nvalue = 10", "non-structural"),
        ("bogus = 1", "unknown key 'bogus'"),
        ("format = 7", "format = 7"),
        ("[[change", "invalid TOML"),
    ],
)
def test_bad_decisions_files_are_one_line_errors(body, message):
    with pytest.raises(UserError) as e:
        parse_decisions(body, "d.toml", n_agencies=12, steps=36)
    assert message in str(e.value) and str(e.value).startswith("d.toml") and "\n" not in str(e.value)


def test_cli_rejects_a_bad_decisions_file_in_one_line(tmp_path):
    bad = tmp_path / "d.toml"
    bad.write_text("[[change]]\nmonth = 0\nlever = 'outreach'\nvalue = 7\n")
    r = subprocess.run(
        [str(CIVSIM), "run", "baseline", "--steps", "12", "--citizens", "100", "--decisions", str(bad),
         "--out", str(tmp_path / "o")],
        capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "300"},
    )  # fmt: skip
    assert r.returncode == 2
    lines = [ln for ln in r.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and "outreach = 7 is not allowed" in lines[0] and "Traceback" not in r.stderr


def test_apply_change_for_all_agencies_uses_the_live_intervention():
    m = BatchModel([resolve({"n_citizens": 200})] * 2, seeding.replicate_sequences(1, 2))
    apply_change(m, Change(0, "coproduction_openness", 0.7))
    assert np.all(m.openness == 0.7) and (0, "open_coproduction", 0.7) in m.interventions
    apply_change(m, Change(0, "needs_targeting", 0.9))
    assert np.all(m.P["needs_targeting"] == 0.9)
    Plan([Change(1, "outreach", 0.3)])(m)  # not due yet at month 0
    assert np.all(m.P["outreach"] == resolve({})["outreach"])


# ---------------------------------------------------------------------------- host screen


def test_everything_a_participant_types_is_escaped_on_the_host_screen():
    from civsim.app import room_views as rv

    reg, room, host = new_room(rounds=1)
    evil = '<img src=x onerror="alert(1)">&'
    tok = room.claim("agency-1", evil)
    room.claim(None, "<script>x()</script>")
    room.decide(tok, {"coproduction_openness": 0.9})  # the only seat taken: the year runs
    wait_rounds_played(room, 1)
    v = room.view()
    pieces = [rv.seats_html(v), rv.graph_html(v), rv.decisions_html(v), rv.story_html(v), rv.headline_html(v)]
    for html_text in pieces:
        assert "<img" not in html_text and "<script>" not in html_text
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;" in pieces[0] + pieces[1]
    assert "&lt;script&gt;" in pieces[0]
    assert 'data-year="1"' in pieces[3]


def test_pages_share_each_years_drawings_and_redraw_what_changed():
    """A year's headline and story are drawn once for every page; seats are redrawn when someone decides."""
    from civsim.app import room_views as rv

    reg, room, host = new_room(rounds=2)
    toks = claim_all(room)
    v0 = room.view()
    head = v0.drawn("headline", rv.headline_html, shared=True)
    seats = v0.drawn("seats", rv.seats_html)
    assert head == rv.headline_html(v0) and seats == rv.seats_html(v0)
    room.decide(toks["council"], {})  # a new view of the same year: the year's drawings are reused
    v1 = room.view()
    assert v1.version > v0.version and v1.shared is v0.shared
    assert v1.drawn("headline", rv.headline_html, shared=True) is head
    assert v1.drawn("seats", rv.seats_html) == rv.seats_html(v1) != seats  # the council has now decided
    for sid, tok in toks.items():
        if sid != "council":
            room.decide(tok, {})
    wait_rounds_played(room, 1)
    v2 = room.view()
    assert v2.shared is not v0.shared
    story = v2.drawn("story", rv.story_html, shared=True)
    assert story == rv.story_html(v2) and 'data-year="1"' in story
    assert v2.drawn("headline", rv.headline_html, shared=True) == rv.headline_html(v2)


def test_qr_code_and_lever_text_come_from_the_server_and_the_schema():
    from civsim.app import room_views as rv

    svg = rv.qr_svg("http://127.0.0.1:8765/join?code=ABCDEF")
    assert svg.startswith("<svg") and "path" in svg
    for kind in SEAT_KINDS:
        for lv in levers(kind):
            help_text, cost = rv.lever_text(lv, {}, 1.0)
            assert help_text == SCHEMA[lv.param].help and cost
            step = rv.lever_step(lv.param)
            assert 0 < step <= (SCHEMA[lv.param].max - SCHEMA[lv.param].min) / 10


def test_a_room_plays_an_uploaded_scenario_validated_like_the_cli():
    from civsim.app.upload import parse_upload

    text = b'description = "ours"\nseed = 9\n[params]\nn_citizens = 250\nausterity_rate = -0.05\n'
    sc = parse_upload("ours.toml", text)
    reg = Registry()
    code, host = reg.create(sc, {"council": 1}, 1)
    g = reg.get(code).game
    assert g.seed == 9 and g.params["austerity_rate"] == -0.05 and g.params["n_citizens"] == 250
    with pytest.raises(UserError, match="austerity_rate"):
        parse_upload("bad.toml", b"[params]\nausterity_rate = 9\n")
