"""Model 2: the mechanisms behind the patterns, each checked where it could be wrong.

Burn-in (runs start at rest), the NAO year-by-year budget split, mutual aid
only after real shocks and at a cost to the helpers, coordination cut by
what agencies can afford (not by a sensitivity), levers that cost money,
network founding below the slot cap, citizens' own values, lone networks
heard by the same rule as alliances, and a fixed-weight council index.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from civsim import process, rules
from civsim.batch import BatchModel
from civsim.params import DEFAULT_DOMAINS, resolve
from civsim.scenario import load_scenario
from civsim.seeding import run_sequence
from civsim.world import group_values

N = 2000
R = 8


def runs(
    overrides: dict | None = None, preset: str | None = None, reps: int = R, steps: int = 120, seed: int = 0
):
    base = dict(load_scenario(preset).params) if preset else {}
    params = resolve({**base, "n_citizens": N, **(overrides or {})})
    return BatchModel([params] * reps, [run_sequence(seed, (r,)) for r in range(reps)]).run(steps).frame()


def at(frame: pd.DataFrame, step: int, column: str) -> np.ndarray:
    return frame[frame.step == step].sort_values("run")[column].to_numpy(float)


@pytest.fixture(scope="module")
def baseline() -> pd.DataFrame:
    return runs()


# ----------------------------------------------------------------------------
# Start at rest


@pytest.mark.parametrize(
    "column", ["outcome_index", "engagement", "trust", "coordination_density", "inclusion_gap"]
)
def test_baseline_is_at_rest_after_burn_in(baseline, column):
    """Drift over ten years is smaller than the replicate spread (issue 9, item 2)."""
    drift = at(baseline, 120, column) - at(baseline, 0, column)
    sd = at(baseline, 120, column).std(ddof=1)
    assert abs(drift.mean()) < sd, f"{column} drifts {drift.mean():+.4f} (replicate sd {sd:.4f})"


def test_without_burn_in_the_baseline_is_not_at_rest():
    """The check above can fail: from the initial world, engagement and outcomes still move."""
    f = runs({"burn_in": 0}, reps=4)
    drift = at(f, 120, "outcome_index") - at(f, 0, "outcome_index")
    assert drift.mean() > at(f, 120, "outcome_index").std(ddof=1)


# ----------------------------------------------------------------------------
# Austerity: the NAO 2018 split, year by year


def test_austerity_preset_follows_the_nao_split():
    f = runs(preset="austerity", reps=1, steps=96)
    first = f[f.step == 1].iloc[0]
    year6 = f[f.step == 84].iloc[0]  # the state after month 83: 2016/17
    assert year6.budget / first.budget == pytest.approx(0.808, abs=0.002)
    assert year6.budget_care / first.budget_care == pytest.approx(0.970, abs=0.002)
    assert year6.budget_services / first.budget_services == pytest.approx(1 - 0.326, abs=0.005)
    assert year6.budget_care / (year6.budget_care + year6.budget_services) == pytest.approx(0.544, abs=0.005)


def test_budget_path_holds_its_last_value_and_sets_month_zero():
    f = runs({"budget_path": [1.0, 0.5], "burn_in": 24}, reps=1, steps=60)
    assert at(f, 0, "budget")[0] == pytest.approx(1.0)  # burn-in runs on the starting budget
    assert at(f, 13, "budget")[0] == pytest.approx(0.5)
    assert at(f, 60, "budget")[0] == pytest.approx(0.5)


# ----------------------------------------------------------------------------
# Mutual aid


def test_mutual_aid_does_nothing_without_a_shock():
    a = runs({"mutual_aid": 0.0}, reps=2, steps=60)
    b = runs({"mutual_aid": 1.5}, reps=2, steps=60)
    pd.testing.assert_frame_equal(a, b)


def test_mutual_aid_speeds_recovery_and_costs_the_helpers():
    shock = {"shock_month": 12, "shock_size": 0.3, "shock_kind": "economic"}
    none = runs({**shock, "mutual_aid": 0.0}, reps=6, steps=36)
    aid = runs({**shock, "mutual_aid": 1.0}, reps=6, steps=36)
    gain = at(aid, 20, "outcome_index") - at(none, 20, "outcome_index")
    assert gain.min() > 0.005, f"aid should lift outcomes after the shock: {gain}"
    cost = at(aid, 24, "engagement") - at(none, 24, "engagement")
    assert cost.mean() < -2 * cost.std(ddof=1) / np.sqrt(cost.size), f"helpers should burn out: {cost}"


def test_aid_counts_each_citizen_once():
    P = {"mutual_aid": np.array([1.0])}
    pop = np.array([[[100.0, 50.0]]])
    engaged = pop.copy()  # everyone engaged (members included once)
    rate, strain = process.aid_rates(P, engaged, pop, np.zeros((1, 1, 1)), np.array([[3.0]]))
    assert rate.max() == pytest.approx(1.0)
    rate0, strain0 = process.aid_rates(P, engaged, pop, np.zeros((1, 1, 1)), np.array([[0.0]]))
    assert rate0.max() == 0.0 and strain0.max() == 0.0


def test_allied_unhit_places_lend_aid():
    P = {"mutual_aid": np.array([1.0])}
    pop = np.full((1, 2, 1), 100.0)
    engaged = np.array([[[10.0], [60.0]]])
    link = np.array([[[0.0, 1.0], [1.0, 0.0]]])
    left = np.array([[5.0, 0.0]])  # place 0 is hit, place 1 is not
    alone, _ = process.aid_rates(P, engaged, pop, np.zeros_like(link), left)
    allied, _ = process.aid_rates(P, engaged, pop, link, left)
    assert alone[0, 0, 0] == pytest.approx(0.1)
    assert allied[0, 0, 0] == pytest.approx(0.1 + rules.ALLY_AID * 0.6)


def test_allied_aid_adds_up_over_allies_and_is_split_among_the_hit():
    """Two unhit allies lend twice one's aid; an unhit place allied with two hit ones splits its
    helpers between them; lenders bear a smaller aid strain and places not asked bear none."""
    P = {"mutual_aid": np.array([1.0])}
    pop = np.full((1, 4, 1), 100.0)
    engaged = np.array([[[10.0], [40.0], [40.0], [20.0]]])
    left = np.array([[5.0, 0.0, 0.0, 0.0]])  # place 0 is hit
    star = np.zeros((1, 4, 4))
    star[0, 0, 1:3] = star[0, 1:3, 0] = 1.0  # 0 allied with 1 and 2
    one = star.copy()
    one[0, 0, 2] = one[0, 2, 0] = 0.0
    rate_one, _ = process.aid_rates(P, engaged, pop, one, left)
    rate_two, strain = process.aid_rates(P, engaged, pop, star, left)
    assert rate_one[0, 0, 0] == pytest.approx(min(1.0, 0.1 + rules.ALLY_AID * 0.4))
    assert rate_two[0, 0, 0] == pytest.approx(min(1.0, 0.1 + rules.ALLY_AID * 0.8))
    assert strain[0].tolist() == pytest.approx(
        [rules.AID_STRAIN, rules.AID_STRAIN * rules.ALLY_AID, rules.AID_STRAIN * rules.ALLY_AID, 0.0]
    )
    two_hit = np.array([[5.0, 0.0, 5.0, 0.0]])  # 0 and 2 hit, both allied with 1
    shared = np.zeros((1, 4, 4))
    shared[0, 1, [0, 2]] = shared[0, [0, 2], 1] = 1.0
    rate, _ = process.aid_rates(P, engaged, pop, shared, two_hit)
    assert rate[0, 0, 0] == pytest.approx(0.1 + rules.ALLY_AID * 0.4 / 2)
    assert rate[0, 2, 0] == pytest.approx(min(1.0, 0.4 + rules.ALLY_AID * 0.4 / 2))
    assert rate[0, 1, 0] == 0.0 and rate[0, 3, 0] == 0.0


# ----------------------------------------------------------------------------
# Coordination follows what agencies can afford


def test_affordable_ties_shrink_with_cuts_and_grow_with_convening():
    b0 = np.array([1.0])
    full = rules.affordable_ties(b0, b0, 0.8, 0.04, 0.0)
    cut = rules.affordable_ties(0.85 * b0, b0, 0.8, 0.04, 0.0)
    helped = rules.affordable_ties(0.85 * b0, b0, 0.8, 0.04, 0.04)
    assert full[0] == 5 and cut[0] == 1 and helped[0] == 2
    assert np.isinf(rules.affordable_ties(0.5 * b0, b0, 0.8, 0.0, 0.0)[0])


def test_austerity_cuts_coordination_only_through_its_cost():
    """Ablation: with free partnerships, austerity leaves coordination alone."""
    costly_base = runs(reps=4)
    costly_aust = runs(preset="austerity", reps=4)
    free_base = runs({"coordination_cost": 0.0}, reps=4)
    free_aust = runs({"coordination_cost": 0.0}, preset="austerity", reps=4)
    cut = at(costly_aust, 120, "coordination_density") - at(costly_base, 120, "coordination_density")
    free = at(free_aust, 120, "coordination_density") - at(free_base, 120, "coordination_density")
    assert cut.mean() < -0.1
    assert abs(free.mean()) < 0.05, f"free partnerships should survive austerity: {free}"


# ----------------------------------------------------------------------------
# Levers cost money


@pytest.mark.parametrize(
    "lever, value",
    [("outreach", 1.0), ("voice_weight", 0.6), ("needs_targeting", 1.0), ("convening_funds", 0.05)],
)
def test_levers_take_money_from_services(lever, value):
    base = resolve({"n_citizens": 200, lever: 0.0, "burn_in": 0})
    used = resolve({"n_citizens": 200, lever: value, "burn_in": 0})
    a = BatchModel([base], [run_sequence(0, ())]).run(1).frame()
    b = BatchModel([used], [run_sequence(0, ())]).run(1).frame()
    assert b.budget.iloc[-1] == a.budget.iloc[-1]
    assert b.budget_services.iloc[-1] < a.budget_services.iloc[-1]


def test_openness_costs_agency_effort():
    open_ = rules.agency_effort(1.0, 1.0, 1.0, 0, 0.04, 1.0, 0.0)
    closed = rules.agency_effort(1.0, 1.0, 1.0, 0, 0.04, 0.0, 0.0)
    assert open_ == pytest.approx(1.0 - rules.OPENNESS_COST) and closed == 1.0


def test_convening_money_pays_part_of_partnership_costs():
    unpaid = rules.agency_effort(1.0, 1.0, 1.0, 3, 0.04, 0.0, 0.0)
    paid = rules.agency_effort(1.0, 1.0, 1.0, 3, 0.04, 0.0, 0.05)
    assert unpaid == pytest.approx(0.88) and paid == pytest.approx(0.93)
    assert rules.agency_effort(1.0, 1.0, 1.0, 3, 0.04, 0.0, 0.5) == 1.0


# ----------------------------------------------------------------------------
# Networks: founding scales with the place; the cap does not bind at baseline


def test_network_cap_does_not_bind_at_baseline_but_is_reported_when_it_does(baseline):
    assert baseline["networks_capped"].max() < 0.5
    tight = runs({"networks_per_neighbourhood": 1}, reps=2, steps=24)
    assert tight["networks_capped"].mean() > 0.5


def test_founding_hazard_grows_with_unaffiliated_engaged():
    u = np.linspace(0, 1, 2001)[:-1]
    small = rules.founds_network(u, 10.0, 6.0, True).mean()
    large = rules.founds_network(u, 60.0, 6.0, True).mean()
    none = rules.founds_network(u, 5.0, 6.0, True).mean()
    assert none == 0.0 and 0 < small < large


def test_without_joining_networks_wither():
    f = runs({"join_rate": 0.0}, reps=2, steps=60)
    assert at(f, 60, "network_members").max() == 0


# ----------------------------------------------------------------------------
# Citizens' own values; voice; the council's indices


def test_groups_value_different_things():
    domains = ("jobs", "housing", "health", "learning", "environment", "safety", "connection", "transport")
    v = group_values(domains, 2)
    assert np.allclose(v.sum(axis=1), 1.0)
    assert v[1, domains.index("jobs")] > v[0, domains.index("jobs")]
    assert v[0, domains.index("environment")] > v[1, domains.index("environment")]


def test_voice_carries_values_that_need_does_not():
    """Equal outcomes (equal need everywhere): voice still differs by who speaks."""
    K = len(DEFAULT_DOMAINS)
    profiles = rules.value_profiles(group_values(DEFAULT_DOMAINS, 2), 0.5)[None]
    outcomes = np.full((1, 1, 2, K), 0.5)
    only_majority = np.zeros((1, 1, 2, K))
    only_majority[0, 0, 0, :] = 10.0
    only_marginalised = np.zeros((1, 1, 2, K))
    only_marginalised[0, 0, 1, :] = 10.0
    focus = np.array([1.0])
    a = process.voice_by_domain(process.voice_cells(profiles, outcomes, focus, only_majority))
    b = process.voice_by_domain(process.voice_cells(profiles, outcomes, focus, only_marginalised))
    assert a.sum() == pytest.approx(b.sum())
    assert not np.allclose(a, b)


def test_lone_network_past_the_threshold_is_heard():
    S, A, K = 2, 1, 3
    ally = np.zeros((1, S + A, S + A), dtype=bool)
    alive = np.array([[True, True]])
    focus = np.array([[1, 2]])
    members = np.array([[100.0, 2.0]])
    pull = process.allied_by_domain(ally, alive, focus, members, 1000, K)
    assert pull[0, 1] == pytest.approx(0.1) and pull[0, 2] == 0.0


def test_fixed_council_index_is_the_plain_mean_of_domains(baseline):
    domains = [f"outcome_{d}" for d in resolve()["domains"]]
    mean = baseline[domains].mean(axis=1)
    assert np.allclose(baseline["outcome_index_council_fixed"], mean)
    weights = baseline[[c for c in baseline.columns if c.startswith("council_weight_")]]
    assert np.allclose(weights.sum(axis=1), 1.0)
    assert weights.std().max() > 0  # the council revises its weights
