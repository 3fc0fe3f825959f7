"""Workshop rooms: the seat choices that are model state (partners, focus, campaign, allies).

A participant can make them only for their own seat's agencies or
neighbourhoods; they land in the model through :func:`civsim.rooms.plan.apply_change`;
a session's export replays them exactly with ``civsim run`` on either
engine; bad decisions-file entries are one-line errors.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from civsim.app.room_views import decisions_html
from civsim.errors import UserError
from civsim.params import ParamError
from civsim.rooms import choices as ch
from civsim.rooms.plan import parse_decisions
from civsim.rooms.registry import RoomError
from civsim.rooms.seats import make_seats, validate_choice
from civsim.simulate import simulate
from tests.test_docking import assert_docked
from tests.test_rooms import (
    SMALL,
    claim_all,
    new_room,
    play_rounds,
    played_and_exported,
    run_export,
    wait_rounds_played,
)


def test_network_organisers_split_the_neighbourhoods():
    seats = [s for s in make_seats({"network": 2}, 12, 6) if s.kind == "network"]
    assert [s.hoods for s in seats] == [(0, 2, 4), (1, 3, 5)]
    assert "neighbourhoods 1, 3, 5" in seats[0].title


def test_choices_are_checked_against_the_seat_and_the_locality():
    reg, room, host = new_room()
    loc = room.game.locality
    agency = room.game.seat("agency-1")
    net = room.game.seat("network-1")
    council = room.game.seat("council")
    tok = claim_all(room)
    ok = validate_choice(agency, {"agency_partners": ["agency 9", "agency 2", "agency 2"]}, loc)
    assert ok == {"agency_partners": ("agency 2", "agency 9")}
    mine = ch.options(agency, "agency_focus", loc)
    assert mine and set(mine) <= set(loc.domains)
    assert validate_choice(agency, {"agency_focus": mine[0]}, loc) == {"agency_focus": mine[0]}
    outside = [d for d in loc.domains if d not in mine]
    bad = [
        (agency, {"agency_focus": outside[0]} if outside else {"agency_focus": "mayor"}),
        (agency, {"agency_partners": ["agency 99"]}),
        (agency, {"agency_partners": "agency 2"}),
        (agency, {"network_focus": loc.domains[0]}),  # not an agency head's choice
        (net, {"agency_partners": ["agency 2"]}),
        (net, {"network_allies": ["neighbourhood 40"]}),
        (net, {"network_focus": "<script>"}),
        (council, {"agency_focus": loc.domains[0]}),
    ]
    for seat, values in bad:
        with pytest.raises(ParamError) as e:
            validate_choice(seat, values, loc)
        assert "\n" not in str(e.value)
        with pytest.raises(RoomError):  # and through the room, as a phone would send it
            room.decide(tok[seat.id], values)


def test_a_participant_sets_choices_only_for_their_own_agencies_and_networks():
    reg, room, host = new_room(rounds=1)
    tok = claim_all(room)
    agency = room.game.seat("agency-2")
    net = room.game.seat("network-1")
    domain = ch.options(agency, "agency_focus", room.game.locality)[0]
    room.decide(tok["agency-2"], {"agency_partners": ["agency 1"], "agency_focus": domain})
    room.decide(
        tok["network-1"], {"network_focus": "health", "network_allies": ["agency 3", "neighbourhood 2"]}
    )
    room.close_round(host)
    wait_rounds_played(room, 1)
    m = room.game.model
    mine = list(agency.agencies)
    others = [a for a in range(m.dims.A) if a not in mine]
    assert m.pledge[0][mine, 0].all() and not m.pledge[0][others].any()
    k = room.game.locality.domains.index(domain)
    assert (m.agency_focus[0][mine] == k).all() and (m.agency_focus[0][others] == -1).all()
    own = np.isin(m.net_hood, net.hoods)
    health = room.game.locality.domains.index("health")
    assert (m.net_campaign[0][own] == health).all() and (m.net_campaign[0][~own] == -1).all()
    S = m.dims.S
    assert m.ally_pledge[0][:S][own].any() and not m.ally_pledge[0][:S][~own].any()
    assert not m.ally_pledge[0][S:].any()  # agencies pledge nothing themselves
    # the changes act for the seat's own part only, whatever the participant sent
    changes = {c.lever: c for c in room.game.changes}
    assert changes["agency_partners"].agencies == agency.agencies
    assert changes["network_allies"].hoods == net.hoods
    assert changes["network_allies"].partners == (2,) and changes["network_allies"].ally_hoods == (1,)
    # the story and the debrief name the choices
    rec = room.view().rounds[0]
    story = " ".join(rec.story)
    assert "agency 1" in story and "health" in story
    table = decisions_html(room.view())
    assert (
        "Named coordination partners = agency 1" in table
        and "Named allies = agency 3, neighbourhood 2" in table
    )
    facts = dict(room.view().facts["agency-2"])
    assert facts["Partners you named"] == "agency 1" and facts["Effort focus"] == domain


def play_choices(room, host, tok):
    a1 = room.game.seat("agency-1")
    focus = ch.options(a1, "agency_focus", room.game.locality)
    rounds = [
        {
            "agency-1": {"agency_partners": ["agency 4", "agency 8"], "agency_focus": focus[-1]},
            "network-1": {"network_focus": "housing", "network_allies": ["agency 2", "neighbourhood 2"]},
            "council": {"convening_funds": 0.06},
        },
        {
            "agency-1": {"agency_partners": ["agency 8"], "coproduction_openness": 0.8},
            "network-2": {"network_allies": ["neighbourhood 1"], "network_focus": "jobs"},
            "panel": {"needs_targeting": 0.8},
        },
        {"agency-1": {"agency_focus": ""}, "network-1": {"network_focus": ""}},
    ]
    play_rounds(room, host, tok, rounds)


def test_export_with_choices_reproduces_the_session_on_both_engines(tmp_path):
    room, files = played_and_exported(tmp_path, play_choices)
    text = files["decisions.toml"]
    assert (
        'lever = "agency_partners"' in text and "partners = [3, 7]" in text and 'domain = "housing"' in text
    )
    assert 'value = ["agency 4", "agency 8"]' in text  # the seat's own words, in [[decision]]
    p = room.game.params
    plan = parse_decisions(text, "d.toml", 12, 36, int(p["n_neighbourhoods"]), tuple(p["domains"]))
    assert len(plan.changes) == len(room.game.changes) >= 9
    assert {c.lever for c in plan.changes} >= set(ch.NAMES)
    session = room.game.frame()
    batch, _ = simulate(room.game.overrides, SMALL.seed, 36, 1, "batch", before_step=plan)
    pd.testing.assert_frame_equal(batch.drop(columns="rep"), session)
    mesa, _ = simulate(room.game.overrides, SMALL.seed, 36, 1, "mesa", before_step=plan)
    assert_docked(mesa.drop(columns="rep"), session)
    # without the choices the run differs (the choices are in the replay, not just carried along)
    plain, _ = simulate(room.game.overrides, SMALL.seed, 36, 1, "batch")
    assert not plain.drop(columns="rep").equals(session)
    out = run_export(tmp_path)
    assert (out / "timeseries.csv").read_text() == files["timeseries.csv"]


ROW = "[[change]]\nmonth = 0\n"


@pytest.mark.parametrize(
    "body, message",
    [
        (
            ROW + "lever = 'agency_partners'\nagencies = [0]\npartners = [12]",
            "partners = [12] is not allowed",
        ),
        (
            ROW + "lever = 'agency_partners'\nagencies = [0]\npartners = 'all'",
            "partners = 'all' is not allowed",
        ),
        (ROW + "lever = 'agency_partners'\nagencies = [0]\nvalue = 1", "unknown key 'value'"),
        (ROW + "lever = 'agency_focus'\nagencies = [0]\ndomain = 'mayor'", "domain = 'mayor' is not allowed"),
        (ROW + "lever = 'network_focus'\nneighbourhoods = [9]\ndomain = 'jobs'", "neighbourhoods = [9]"),
        (ROW + "lever = 'network_allies'\nneighbourhoods = [0]\nally_agencies = [true]", "ally_agencies"),
        (ROW + "lever = 'network_allies'\nneighbourhoods = [0]\nagencies = [1]", "unknown key 'agencies'"),
    ],
)
def test_bad_choice_entries_are_one_line_errors(body, message):
    with pytest.raises(UserError) as e:
        parse_decisions(body, "d.toml", n_agencies=12, steps=36, n_hoods=6)
    assert message in str(e.value) and str(e.value).startswith("d.toml") and "\n" not in str(e.value)


def test_the_phone_form_offers_the_choices_and_sends_them_for_its_own_seat():
    import ipyvuetify as v
    import solara

    from civsim.app.page_join import DecisionForm

    reg, room, host = new_room(rounds=2)
    tok = claim_all(room)
    for sid in ("agency-1", "network-1"):
        box, rc = solara.render(DecisionForm(room, tok[sid], sid, room.view()), handle_error=False)
        selects = rc.find(v.Select).widgets
        picked = {}
        for w in selects:
            w.v_model = [w.items[1]] if w.multiple else w.items[1]
            picked[w.label] = (w.items[1],) if w.multiple else w.items[1]
        rc.find(v.Btn, children=["Decide for year 1"]).widget.click()
        kind = room.game.seat(sid).kind
        labels = {ch.CHOICES[n].label: n for n in ch.NAMES}
        assert sorted(labels[k] for k in picked) == sorted(n for n in ch.NAMES if n.startswith(kind))
        for label, value in picked.items():
            assert room.pending[sid][labels[label]] == value
