"""Seat choices that are model state: named partners, agency focus, campaign focus, named allies.

A workshop room's agency heads and network organisers make these choices
(:mod:`civsim.rooms.choices`); here the model's side: the rules
(:func:`civsim.rules.next_coordination`, :func:`civsim.rules.focused_share`,
:func:`civsim.rules.next_alliance`, :func:`civsim.rules.campaign_focus`) and
both engines, which must stay docked exactly with the choices made mid-run.
"""

from __future__ import annotations

import numpy as np
import pytest

from civsim import rules
from civsim.batch import BatchModel
from civsim.model import CivicModel
from civsim.params import resolve
from civsim.seeding import run_sequence
from tests.test_docking import assert_docked

SMALL = {"n_citizens": 300, "burn_in": 12}


def both(params: dict, seed: int = 5) -> tuple[CivicModel, BatchModel]:
    p = resolve(params)
    return CivicModel(p, seed=seed), BatchModel([p], [run_sequence(seed)])


def choose(m, month: int) -> None:
    """A script of seat choices, the same calls on either engine."""
    if month == 3:
        m.pledge_partners([0, 1], [2, 5, 7])
        m.set_agency_focus([0, 3, 4, 8], 1)
        m.set_campaign([0, 1], 2)
        m.pledge_allies([0], [1, 3], [2])
    if month == 14:
        m.pledge_partners([0], [])  # dropped: its ties may now lapse as usual
        m.set_agency_focus([3], -1)
        m.set_campaign([0], 5)
        m.set_campaign([1], -1)
        m.pledge_allies([0], [], [2, 3])
        m.pledge_allies([4], [0], [])
        m.intervene("fund_networks", 0.08)


# ---------------------------------------------------------------------------- docking


@pytest.mark.parametrize("extra", [{}, {"coordination_cost": 0.1, "random_shock_rate": 0.5}])
def test_engines_dock_exactly_with_choices_made_mid_run(extra):
    mesa, batch = both({**SMALL, **extra})
    for t in range(26):
        choose(mesa, t)
        choose(batch, t)
        mesa.step()
        batch.step()
    assert_docked(mesa.frame(), batch.frame().drop(columns="run"), tol=0.0)
    assert np.array_equal(mesa.coordination_matrix(), batch.coord)
    assert np.array_equal(mesa.alliance_matrix(), batch.ally)
    alive, focus, _, _ = mesa.network_arrays()
    assert np.array_equal(np.where(alive, focus, -1), np.where(batch.alive, batch.net_focus, -1))


def test_choices_change_the_run():
    """Not trivially docked: the same run without the choices differs."""
    _, plain = both(SMALL)
    _, chosen = both(SMALL)
    for t in range(26):
        choose(chosen, t)
        chosen.step()
        plain.step()
    assert not np.array_equal(plain.coord, chosen.coord)
    assert not np.array_equal(plain.ally, chosen.ally)
    assert (plain.frame()["outcome_index"] != chosen.frame()["outcome_index"]).any()


# ---------------------------------------------------------------------------- named partners


def test_rule_pledged_pair_forms_when_affordable_and_lapses_only_when_overstretched():
    u = np.array([0.999, 0.999, 0.0, 0.5])
    args = dict(link=0.0, propensity=0.0, convening=0.0, decay=1.0, enabled=True, pledged=True)
    # not tied: forms whenever both can pay (room 1), whatever the draw; never without room
    assert rules.next_coordination(False, u=u, over_pair=0.0, room_pair=1.0, **args).all()
    assert not rules.next_coordination(False, u=u, over_pair=0.0, room_pair=0.0, **args).any()
    # tied: no lapse by decay (here certain decay), only by overstretch
    assert rules.next_coordination(True, u=u, over_pair=0.0, room_pair=0.0, **args).all()
    assert not rules.next_coordination(True, u=u, over_pair=1.0, room_pair=0.0, **args).any()
    # unpledged, the same tie lapses by decay
    assert not rules.next_coordination(
        True, u=u, over_pair=0.0, room_pair=1.0, **{**args, "pledged": False}
    ).any()


def test_pledged_pair_is_tied_whenever_affordable_and_austerity_breaks_it(monkeypatch):
    monkeypatch.setattr(rules, "COORDINATION_PROPENSITY", 0.0)  # no tie forms by chance
    params = {**SMALL, "coordination_decay": 0.5}
    m = BatchModel([resolve(params)], [run_sequence(2)])
    assert not m.coord.any()  # no ties form by chance
    m.pledge_partners([0], [3])
    for _ in range(24):
        m.step()
        assert m.coord[0, 0, 3] and m.coord[0, 3, 0]
    assert m.coord[0].sum() == 2  # only the pledged pair
    m.intervene("cut_budget", 0.6)  # no discretionary budget left: no partnership is affordable
    m.step()
    m.step()
    assert not m.coord[0, 0, 3]
    m.pledge_partners([0], [])  # dropped and affordable again: the tie does not come back by itself
    m.intervene("cut_budget", -1.5)
    for _ in range(6):
        m.step()
    assert not m.coord[0, 0, 3]


def test_a_pledge_made_by_either_side_counts(monkeypatch):
    monkeypatch.setattr(rules, "COORDINATION_PROPENSITY", 0.0)
    m = BatchModel([resolve(SMALL)], [run_sequence(2)])
    m.pledge_partners([4], [1])
    m.step()
    assert m.coord[0, 1, 4]


# ---------------------------------------------------------------------------- agency focus


def test_focus_moves_effort_to_the_domain_and_keeps_the_total():
    remit_share = np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])
    share = rules.focused_share(remit_share, np.array([1, 1, -1]))
    np.testing.assert_allclose(share.sum(axis=-1), 1.0)
    assert share[0, 1] == 0.5 + rules.FOCUS_SHARE * 0.5 and share[0, 0] < 0.5
    np.testing.assert_array_equal(share[1], remit_share[1])  # focus outside the remit: no change
    np.testing.assert_array_equal(share[2], remit_share[2])  # no focus
    C = np.zeros((3, 3))
    effort = np.array([2.0, 1.0, 1.0])
    plain = rules.domain_effort(effort, remit_share, remit_share, np.zeros(3), C, 0.0)
    focused = rules.domain_effort(effort, share, remit_share, np.zeros(3), C, 0.0)
    np.testing.assert_allclose(focused.sum(axis=-1), plain.sum(axis=-1))
    assert focused[0, 1] > plain[0, 1] and focused[0, 0] < plain[0, 0]


def test_agency_focus_changes_the_engine_s_delivery():
    a, b = (BatchModel([resolve(SMALL)], [run_sequence(4)]) for _ in range(2))
    two = np.flatnonzero(a.remit[0].sum(axis=1) == 2)
    k = int(np.flatnonzero(a.remit[0, two[0]])[1])
    b.set_agency_focus([int(two[0])], k)
    a.run(6)
    b.run(6)
    assert not np.array_equal(a.outcomes, b.outcomes)


# ---------------------------------------------------------------------------- campaigns and allies


def test_network_focus_sticks_for_live_and_new_networks():
    m = BatchModel([resolve(SMALL)], [run_sequence(6)])
    hoods = m.net_hood
    m.set_campaign([0, 2], 4)
    mine = np.isin(hoods, [0, 2])
    for _ in range(36):
        assert (m.net_focus[0, mine & m.alive[0]] == 4).all()
        m.step()
    assert (m.net_focus[0, mine & m.alive[0]] == 4).all()
    m.set_campaign([0, 2], -1)  # released: they keep the focus they campaign on
    m.run(3)
    assert (m.net_focus[0, mine & m.alive[0]] == 4).all()


def test_allies_pledge_forms_the_alliance_tie_and_keeps_it():
    params = {**SMALL, "n_neighbourhoods": 3, "alliance_propensity": 0.0, "alliance_decay": 1.0}
    m = BatchModel([resolve(params)], [run_sequence(3)])
    S = m.dims.S
    m.set_campaign([0, 1], 0)
    a = int(np.flatnonzero(m.remit[0, :, 0])[0])  # an agency working on the campaign's domain
    m.openness[0, a] = 0.8
    m.pledge_allies([0], [a], [1])
    for _ in range(6):
        before = m.alive[0].copy()
        m.step()
        kept = before & m.alive[0]  # alive before and after the step (the tie is decided on the state at t)
        live0 = np.flatnonzero(kept & (m.net_hood == 0))
        live1 = np.flatnonzero(kept & (m.net_hood == 1))
        assert live0.size and live1.size
        assert m.ally[0][np.ix_(live0, live1)].all()
        assert m.ally[0, live0, S + a].all()
    assert not m.ally[0][np.ix_(live1, live1)].any()  # no other alliances (propensity 0)
