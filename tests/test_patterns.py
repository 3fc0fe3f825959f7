"""The seven patterns of the model brief (pattern-oriented modelling).

Each pattern is a directional comparison against a reference, on the batch
core with R = 8 replicates of N = 2,000 citizens over 120 months. Both arms
of a comparison use the same seeds (common random numbers). A difference
must exceed two standard errors (Welch, unpaired, unless said otherwise) and a
minimum size, so an effect that is there only by noise or only in the fourth
decimal does not pass.

(a) austerity erodes outcomes and coordination, most for the marginalised,
    less where networks and co-production are strong;
(b) joined-up working pays where domains are interdependent, not otherwise;
(c) tipping points: small changes in outreach flip engagement;
(d) allied networks shift the agenda, lone networks do not;
(e) trust and co-production reinforce each other;
(f) dense alliances and engaged citizens shorten recovery after a shock;
(g) exclusion from agenda-setting: the excluded engage less and lag.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from civsim import metrics, process
from civsim.batch import BatchModel
from civsim.params import resolve
from civsim.scenario import load_scenario
from civsim.seeding import run_sequence

R = 8
N = 2000
STEPS = 120


# ----------------------------------------------------------------------------
# Helpers


def run_arm(
    overrides: dict | None = None, preset: str | None = None, reps: int = R, steps: int = STEPS, seed: int = 0
) -> tuple[BatchModel, pd.DataFrame]:
    """``reps`` replicates of one parameter point (preset, then overrides) on the batch core."""
    base = dict(load_scenario(preset).params) if preset else {}
    params = resolve({**base, "n_citizens": N, **(overrides or {})})
    bm = BatchModel([params] * reps, [run_sequence(seed, (r,)) for r in range(reps)]).run(steps)
    return bm, bm.frame()


def final(frame: pd.DataFrame, column: str) -> np.ndarray:
    """Final value of ``column`` per run."""
    return frame[frame.step == frame.step.max()].sort_values("run")[column].to_numpy(float)


def run_mean(frame: pd.DataFrame, column: str) -> np.ndarray:
    """Mean of ``column`` over the run, per run."""
    return frame.groupby("run")[column].mean().sort_index().to_numpy(float)


@dataclass
class Effect:
    """Difference of means b - a with its standard error."""

    diff: float
    se: float
    a: float
    b: float

    def __str__(self) -> str:
        return f"{self.a:.4f} -> {self.b:.4f} (diff {self.diff:+.4f}, se {self.se:.4f})"


def effect(a: np.ndarray, b: np.ndarray, paired: bool = False) -> Effect:
    a, b = np.asarray(a, float), np.asarray(b, float)
    if paired:
        d = b - a
        se = d.std(ddof=1) / np.sqrt(d.size)
    else:
        se = np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    return Effect(float(b.mean() - a.mean()), float(se), float(a.mean()), float(b.mean()))


def assert_up(e: Effect, min_size: float, what: str) -> None:
    """b is larger than a by more than 2 se and by at least ``min_size``."""
    assert e.diff > 2 * e.se and e.diff >= min_size, (
        f"{what}: expected an increase of > 2 se and >= {min_size}; got {e}"
    )


def assert_down(e: Effect, min_size: float, what: str) -> None:
    """b is smaller than a by more than 2 se and by at least ``min_size``."""
    assert -e.diff > 2 * e.se and -e.diff >= min_size, (
        f"{what}: expected a decrease of > 2 se and >= {min_size}; got {e}"
    )


# ----------------------------------------------------------------------------
# (a) Austerity


@pytest.fixture(scope="module")
def baseline_runs():
    return run_arm()


@pytest.fixture(scope="module")
def austerity_runs():
    return run_arm(preset="austerity")


def test_a_austerity_lowers_outcomes_widens_gap_cuts_coordination(baseline_runs, austerity_runs):
    _, base = baseline_runs
    _, aus = austerity_runs
    assert_down(
        effect(final(base, "outcome_index"), final(aus, "outcome_index")), 0.02, "austerity: outcome_index"
    )
    assert_up(
        effect(final(base, "inclusion_gap"), final(aus, "inclusion_gap")), 0.005, "austerity: inclusion_gap"
    )
    assert_down(
        effect(final(base, "coordination_density"), final(aus, "coordination_density")),
        0.05,
        "austerity: coordination_density",
    )
    assert_down(effect(final(base, "budget"), final(aus, "budget")), 0.2, "austerity: budget")


def test_a_austerity_hits_marginalised_hardest(baseline_runs, austerity_runs):
    _, base = baseline_runs
    _, aus = austerity_runs
    loss_marg = final(base, "outcome_index_marginalised") - final(aus, "outcome_index_marginalised")
    loss_maj = final(base, "outcome_index_majority") - final(aus, "outcome_index_majority")
    e = effect(loss_maj, loss_marg)
    assert loss_maj.mean() > 0, f"majority outcomes do not fall under austerity: {loss_maj.mean():.4f}"
    assert_up(e, 0.003, "austerity loss, majority -> marginalised")


def test_a_coordination_is_cut_first(baseline_runs, austerity_runs):
    """Coordination loses a far larger share than the outcome index does (years 3, 5 and 10)."""
    _, base = baseline_runs
    _, aus = austerity_runs

    def mean_at(f, c, at):
        return f[f.step == at][c].mean()

    for at in (36, 60, 120):
        rel_coord = 1 - mean_at(aus, "coordination_density", at) / mean_at(base, "coordination_density", at)
        rel_outcome = 1 - mean_at(aus, "outcome_index", at) / mean_at(base, "outcome_index", at)
        assert rel_outcome > 0 and rel_coord > 2 * rel_outcome, (
            f"at month {at}: coordination density -{rel_coord:.1%}, outcome index -{rel_outcome:.1%}"
        )


STRONG_CIVIC = {
    "coproduction_openness": 0.8,
    "trust_coproduction_gain": 0.6,
    "coproduction_effort": 6.0,
    "network_grants": 0.05,
    "join_rate": 0.1,
}


def test_a_networks_and_coproduction_soften_austerity(baseline_runs, austerity_runs):
    _, base = baseline_runs
    _, aus = austerity_runs
    austerity = dict(load_scenario("austerity").params)
    _, sbase = run_arm(STRONG_CIVIC)
    _, saus = run_arm({**austerity, **STRONG_CIVIC})
    loss_plain = final(base, "outcome_index") - final(aus, "outcome_index")
    loss_strong = final(sbase, "outcome_index") - final(saus, "outcome_index")
    assert loss_strong.mean() > 0, "austerity should still cost something with strong networks"
    e = effect(loss_strong, loss_plain)
    assert_up(e, 0.005, "austerity loss, strong civic society -> plain")


# ----------------------------------------------------------------------------
# (b) Joined-up working pays only where domains are interdependent

COORD = {"coordination_benefit": 1.5, "coordination_cost": 0.01, "coordination_propensity": 0.1}


def coordination_gain(extra: dict) -> Effect:
    """Gain in the run-mean outcome index from allowing coordination (paired over seeds)."""
    _, off = run_arm({**COORD, **extra, "coordination_enabled": False})
    _, on = run_arm({**COORD, **extra, "coordination_enabled": True})
    assert final(on, "coordination_density").mean() > 0.2
    assert final(off, "coordination_density").max() == 0.0
    return effect(run_mean(off, "outcome_index"), run_mean(on, "outcome_index"), paired=True)


def test_b_coordination_pays_with_strong_interdependence():
    assert_up(coordination_gain({"interdependence": 1.5}), 0.005, "coordination on, interdependence 1.5")


def test_b_coordination_gains_nothing_without_interdependence():
    strong = coordination_gain({"interdependence": 1.5})
    none = coordination_gain({"interdependence": 0.0})
    assert none.diff <= 0.001, f"coordination should not pay with interdependence 0; gain {none}"
    assert strong.diff - none.diff > 0.005, f"gain with interdependence 1.5 {strong} vs 0 {none}"


def test_b_coordination_loses_when_transaction_costs_are_high():
    costly = coordination_gain({"interdependence": 1.5, "coordination_cost": 0.3})
    assert_down(costly, 0.01, "coordination on with cost 0.3 per partner")


# ----------------------------------------------------------------------------
# (c) Tipping point in outreach

# A homogeneous locality (equal capacities, thresholds 0.3 +- 0.02) with
# strong burnout: engagement settles low without outreach; outreach adds
# contacts and lowers the barrier until contagion takes over.
TIPPING = {"threshold_mean": 0.3, "threshold_sd": 0.02, "capacity_sd": 0.0, "burnout_rate": 0.4}
OUTREACH = np.round(np.linspace(0.0, 1.0, 11), 2)
TIP_REPS = 4


@pytest.fixture(scope="module")
def outreach_sweep():
    points = [
        resolve({"n_citizens": N, **TIPPING, "outreach": float(o)}) for o in OUTREACH for _ in range(TIP_REPS)
    ]
    seeds = [run_sequence(0, (r,)) for _ in OUTREACH for r in range(TIP_REPS)]
    bm = BatchModel(points, seeds).run(STEPS)
    frame = bm.frame()
    eng = final(frame, "engagement").reshape(len(OUTREACH), TIP_REPS)
    M = bm.dims.M
    counts = np.bincount(bm.hood, minlength=M)
    hood_eng = np.stack(
        [np.bincount(bm.hood, weights=bm.engaged[b].astype(float), minlength=M) / counts for b in range(bm.B)]
    )
    return eng, hood_eng


def test_c_outreach_has_a_tipping_point(outreach_sweep):
    eng, _ = outreach_sweep
    curve = eng.mean(axis=1)
    jumps = np.diff(curve)
    i = int(np.argmax(jumps))
    msg = f"engagement by outreach {dict(zip(OUTREACH.tolist(), np.round(curve, 3).tolist(), strict=True))}"
    assert curve[-1] - curve[0] > 0.4, msg
    assert jumps[i] > 4 * jumps.mean(), f"largest step {jumps[i]:.3f} vs mean step {jumps.mean():.3f}; {msg}"
    # the jump is inside the range, not the trivial switch from no outreach at all
    assert OUTREACH[i] > 0, msg
    assert curve[i] < 0.35 and curve[i + 1] > 0.6, msg
    # one step of 0.1 in outreach makes more of the change than all other steps together
    assert jumps[i] > jumps.sum() - jumps[i], msg


def test_c_neighbourhoods_flip_between_low_and_high(outreach_sweep):
    _, hood_eng = outreach_sweep
    h = hood_eng.ravel()
    low, high = (h < 0.3).mean(), (h > 0.7).mean()
    mid = 1 - low - high
    assert low > 0.15 and high > 0.15, f"low {low:.2f}, high {high:.2f}"
    assert mid < 0.1, f"{mid:.1%} of neighbourhood-runs are in between (0.3-0.7): no clear bistability"


# ----------------------------------------------------------------------------
# (d) Allied networks shift the agenda; lone networks do not


def agenda_pull(bm: BatchModel) -> np.ndarray:
    """Council weight on the networks' focus domains, relative to a uniform agenda (1 = no pull).

    ``K * sum_k w_k phi_k``, phi the member-weighted focus distribution of the
    live networks in each run.
    """
    w = bm.council["weights"]
    K = w.shape[1]
    mem = bm.net_members * bm.alive
    out = []
    for b in range(bm.B):
        phi = np.bincount(bm.net_focus[b], weights=mem[b], minlength=K)
        assert phi.sum() > 0, "no network members to pull the agenda"
        out.append(K * float(w[b] @ (phi / phi.sum())))
    return np.array(out)


@pytest.fixture(scope="module")
def alliance_arms():
    arms = {}
    for enabled in (True, False):
        for voice in (0.0, 0.8):
            bm, frame = run_arm({"alliances_enabled": enabled, "alliance_voice": voice}, preset="alliances")
            arms[enabled, voice] = (bm, frame)
    return arms


def test_d_allied_voice_pulls_agenda_to_allied_focus(alliance_arms):
    """Alliance voice 0.8 vs 0 (same alliances): the agenda moves toward the networks' focus."""
    bm1, f1 = alliance_arms[True, 0.8]
    bm0, _ = alliance_arms[True, 0.0]
    assert final(f1, "largest_alliance").mean() >= 5, "alliances preset forms no sizeable alliance"
    e = effect(agenda_pull(bm0), agenda_pull(bm1), paired=True)
    assert_up(e, 0.02, "agenda pull toward network focus, alliance_voice 0 -> 0.8")


def test_d_alliances_shift_agenda_vs_lone_networks(alliance_arms):
    """With alliances the agenda sits closer to the networks' focus than with lone networks."""
    lone, _ = alliance_arms[False, 0.8]
    allied, _ = alliance_arms[True, 0.8]
    assert_up(effect(agenda_pull(lone), agenda_pull(allied)), 0.02, "agenda pull, lone -> allied networks")


def test_d_lone_networks_do_not_shift_agenda(alliance_arms):
    """Without alliances, alliance_voice has no effect at all on the council's weights."""
    bm1, _ = alliance_arms[False, 0.8]
    bm0, _ = alliance_arms[False, 0.0]
    assert bm1.alive.sum() > 0
    assert np.array_equal(bm1.council["weights"], bm0.council["weights"])


def test_d_allied_voice_needs_the_influence_threshold():
    """Alliances below the influence threshold (1.0 = all citizens) exert no allied voice."""
    bm1, f1 = run_arm(
        {"alliance_voice": 0.8, "influence_threshold": 1.0}, preset="alliances", reps=2, steps=60
    )
    bm0, _ = run_arm(
        {"alliance_voice": 0.0, "influence_threshold": 1.0}, preset="alliances", reps=2, steps=60
    )
    assert final(f1, "largest_alliance").max() >= 2
    assert np.array_equal(bm1.council["weights"], bm0.council["weights"])


# ----------------------------------------------------------------------------
# (e) Trust and co-production reinforce each other


def test_e_open_agencies_raise_trust_and_engagement():
    _, closed = run_arm({"coproduction_openness": 0.1})
    _, open_ = run_arm({"coproduction_openness": 0.8})
    assert_up(effect(final(closed, "trust"), final(open_, "trust")), 0.03, "trust, openness 0.1 -> 0.8")
    assert_up(
        effect(final(closed, "engagement"), final(open_, "engagement")),
        0.02,
        "engagement, openness 0.1 -> 0.8",
    )
    assert_up(
        effect(final(closed, "outcome_index"), final(open_, "outcome_index")),
        0.005,
        "outcome_index, openness 0.1 -> 0.8",
    )


def test_e_coproduction_experience_builds_trust():
    _, none = run_arm({"trust_coproduction_gain": 0.0})
    _, gain = run_arm({"trust_coproduction_gain": 0.6})
    assert_up(effect(final(none, "trust"), final(gain, "trust")), 0.03, "trust, coproduction gain 0 -> 0.6")
    assert_up(
        effect(final(none, "engagement"), final(gain, "engagement")),
        0.01,
        "engagement, coproduction gain 0 -> 0.6",
    )


def test_e_low_trust_lowers_engagement():
    _, low = run_arm({"trust_initial": 0.2})
    _, high = run_arm({"trust_initial": 0.8})
    assert_up(
        effect(run_mean(low, "engagement"), run_mean(high, "engagement")),
        0.02,
        "run-mean engagement, trust_initial 0.2 -> 0.8",
    )
    assert_up(
        effect(final(low, "engagement"), final(high, "engagement")),
        0.01,
        "final engagement, trust_initial 0.2 -> 0.8",
    )


# ----------------------------------------------------------------------------
# (f) Recovery after a shock

SHOCK = {"shock_month": 36, "shock_kind": "economic", "shock_size": 0.3, "shock_scope": 1.0}


REGAIN_MONTHS = 24


def resilience(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Dip after the month-36 shock and the share of it regained 24 months after the trough, per run.

    The share regained is continuous and never censored, unlike months to recover.
    """
    dips, regained = [], []
    for _, g in frame.groupby("run"):
        x = g.sort_values("step")["outcome_index"].to_numpy()
        s = metrics.summarise(g.sort_values("step"))
        assert s["n_shocks"] == 1
        start = SHOCK["shock_month"] + 1
        pre, trough_at = x[start - 1], start + int(np.argmin(x[start:]))
        dip = pre - x[trough_at]
        assert abs(dip - s["shock_dip"]) < 1e-12
        dips.append(dip)
        regained.append((x[min(trough_at + REGAIN_MONTHS, len(x) - 1)] - x[trough_at]) / dip)
    return np.array(dips), np.array(regained)


@pytest.fixture(scope="module")
def shocked_baseline():
    return resilience(run_arm(SHOCK)[1])


def test_f_mutual_aid_shortens_recovery(shocked_baseline):
    dip0, reg0 = shocked_baseline
    dip1, reg1 = resilience(run_arm({**SHOCK, "mutual_aid": 1.0})[1])
    assert_down(effect(dip0, dip1), 0.005, "shock dip, mutual_aid 0.3 -> 1.0")
    assert_up(effect(reg0, reg1, paired=True), 0.05, "share of dip regained in 24 months, mutual_aid 0.3 -> 1.0")


def test_f_dense_alliances_shorten_recovery(shocked_baseline):
    dip0, reg0 = shocked_baseline
    dip1, reg1 = resilience(run_arm(SHOCK, preset="alliances")[1])
    assert_down(effect(dip0, dip1), 0.003, "shock dip, baseline -> alliances preset")
    assert_up(effect(reg0, reg1, paired=True), 0.03, "share of dip regained in 24 months, baseline -> alliances")


def test_f_engaged_citizens_shorten_recovery(shocked_baseline):
    dip0, reg0 = shocked_baseline
    _, frame = run_arm({**SHOCK, "spontaneous_rate": 0.05})
    pre = frame[frame.step == SHOCK["shock_month"]]["engagement"].mean()
    dip1, reg1 = resilience(frame)
    assert pre > 0.5, f"engagement before the shock only {pre:.2f}"
    assert_down(effect(dip0, dip1), 0.003, "shock dip, more engaged citizens")
    assert_up(effect(reg0, reg1, paired=True), 0.05, "share of dip regained in 24 months, more engaged citizens")


# ----------------------------------------------------------------------------
# (g) Exclusion from agenda-setting


@pytest.fixture(scope="module")
def barrier_arms():
    # voice-led agenda and outcomes-based commissioning, so the agenda matters for delivery;
    # 16 paired replicates: the marginalised are a quarter of the voice, so the drift is small
    agenda = {"voice_weight": 0.7, "need_weight": 0.0, "commissioning_outcomes": 1.0}
    return run_arm({**agenda, "participation_barrier": 0.0}, reps=16), run_arm(
        {**agenda, "participation_barrier": 0.8}, reps=16
    )


def test_g_barrier_lowers_marginalised_engagement_and_widens_gap(barrier_arms):
    (_, open_), (_, barred) = barrier_arms
    assert_down(
        effect(final(open_, "engagement_marginalised"), final(barred, "engagement_marginalised")),
        0.03,
        "marginalised engagement, barrier 0 -> 0.8",
    )
    gap = effect(final(open_, "inclusion_gap"), final(barred, "inclusion_gap"))
    assert_up(gap, 0.003, "inclusion gap, barrier 0 -> 0.8")
    # the majority is barely affected: the barrier targets the marginalised
    maj = effect(final(open_, "engagement_majority"), final(barred, "engagement_majority"))
    marg = effect(final(open_, "engagement_marginalised"), final(barred, "engagement_marginalised"))
    assert abs(maj.diff) < abs(marg.diff) / 2, f"majority {maj}, marginalised {marg}"


def weight_on(bm: BatchModel, domains: list[str]) -> np.ndarray:
    """The council's total priority weight on ``domains``, per run."""
    idx = [bm.domains.index(d) for d in domains]
    return bm.council["weights"][:, idx].sum(axis=1)


def test_g_agenda_drifts_from_the_excluded(barrier_arms):
    """With a voice-led agenda, barring the marginalised moves it away from their needs.

    Their disadvantage is largest in jobs and housing (world.disadvantage_mask),
    so those are what they voice most; barred from taking part, those domains
    lose weight in the council's framework (paired over the same seeds).
    """
    (bm_open, _), (bm_barred, _) = barrier_arms
    e = effect(weight_on(bm_open, ["jobs", "housing"]), weight_on(bm_barred, ["jobs", "housing"]), paired=True)
    assert_down(e, 0.002, "agenda weight on jobs + housing, barrier 0 -> 0.8")
