"""The model's mechanisms, written once, as pure functions.

Every rule here works on numpy scalars and on arrays alike (with any leading
batch axes), so the Mesa engine (one agent, scalars) and the batch core (many
runs, arrays) call the very same code. No rule draws random numbers: uniform
draws are passed in, in the fixed order given by :func:`draw_step`, which is
what lets both engines be docked exactly.

Notation: N citizens, M neighbourhoods, G groups (0 = majority), K outcome
domains, S network slots, A agencies. ``O[m, g, k]`` is the outcome state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MONTHS_PER_YEAR = 12
NETWORK_SPEND_RATE = 0.1
"""Share of its resources a network spends on action each month."""
NETWORK_GRACE_MONTHS = 6
"""Age before a network with too few members dissolves."""
NEW_NETWORK_COHESION = 0.3
"""Cohesion of a newly founded network."""
SCALING_TRANSFER = 0.25
"""Share of its resources a network gives the sister network it seeds."""
COHESION_RATE = 0.1
"""Monthly speed at which a network's cohesion follows its members' trust."""
MEMBER_PULL = 0.15
"""Push to stay engaged that a fully cohesive network gives its members."""
OUTREACH_CONTACT = 0.02
"""Monthly chance that full outreach brings a disengaged marginalised citizen in."""
CONVENING_GAIN = 40.0
"""Tie-formation multiplier per unit share of budget spent convening (5% -> x3)."""
TREND_MONTHS = 12.0
"""Time constant of the slow valued-outcome average that trust compares with."""
RESPONSIVENESS_GAIN = 2.0
"""Trust response to how well the agenda matches a cell's priorities."""
IMPROVEMENT_GAIN = 5.0
"""Trust response to recent improvement of a cell's valued-outcome index."""
AID_MONTHS = 12
"""Months after a shock during which neighbours give mutual aid toward the pre-shock level."""
AID_STRAIN = 0.05
"""Extra monthly burnout hazard of an engaged citizen giving aid at ``mutual_aid`` = 1 (scaled by it)."""
ALLY_AID = 0.5
"""Share of an allied, unhit neighbourhood's engaged residents' aid that reaches a hit one."""
FOUNDING_RATE = 0.05
"""Monthly founding hazard per ``network_found_size`` engaged citizens outside any network."""
OUTREACH_COST = 0.03
"""Share of the council budget that full inclusive outreach costs (outreach workers)."""
VOICE_COST = 0.02
"""Share of the council budget that running participatory processes at full voice weight costs."""
TARGETING_COST = 0.01
"""Share of the council budget that fully needs-based allocation costs (assessment)."""
OPENNESS_COST = 0.1
"""Share of an agency's delivery effort that full openness to co-production takes in staff time."""


# --------------------------------------------------------------------------
# Random draws


@dataclass(frozen=True)
class Dims:
    """Sizes of one run's world."""

    N: int
    M: int
    G: int
    K: int
    S: int
    A: int

    @property
    def coordination_pairs(self) -> int:
        return self.A * (self.A - 1) // 2

    @property
    def alliance_pairs(self) -> int:
        return self.S * (self.S - 1) // 2 + self.S * self.A


DRAW_ORDER: tuple[str, ...] = ("shock", "engage", "join", "scale", "found", "coordination", "alliance")


def draw_sizes(dims: Dims) -> dict[str, int]:
    """How many uniforms each kind of draw takes per step (see :func:`draw_step`)."""
    return {
        "shock": 1 + dims.M,
        "engage": dims.N,
        "join": dims.N,
        "scale": dims.S,
        "found": dims.M,
        "coordination": dims.coordination_pairs,
        "alliance": dims.alliance_pairs,
    }


def draw_step(
    rng: np.random.Generator, dims: Dims, out: dict[str, np.ndarray] | None = None
) -> dict[str, np.ndarray]:
    """Draw every uniform one step needs, in the documented fixed order.

    The order is: shock (1 + M), citizens' engagement (N), citizens' network
    joining (N), network scaling (S), network founding (M), agency coordination pairs
    (A(A-1)/2, row-major upper triangle), alliance pairs (network-network
    upper triangle, then network-agency row-major). Every draw is made every
    step, whatever the parameters, so the stream never shifts. With ``out``
    (float64 arrays of the right sizes, e.g. rows of a batch's buffers) the
    draws are written in place; the values are the same.
    """
    sizes = draw_sizes(dims)
    if out is None:
        return {k: rng.random(sizes[k]) for k in DRAW_ORDER}
    for k in DRAW_ORDER:
        rng.random(out=out[k])
    return out


# --------------------------------------------------------------------------
# Engagement (Granovetter 1978; Watts 2002)


def tie_share(count, degree):
    """Share of a citizen's ties who are engaged (0 without ties, whose count is 0)."""
    return count / np.maximum(degree, 1.0)


def engagement_push(frac_engaged_ties, capacity, trust, cohesion, contagion_weight, trust_weight):
    r"""Push toward engagement felt by a citizen.

    .. math:: s_i = w_c c_i f_i + w_\tau (\tau_i - 1/2) + \pi \kappa_{n(i)}

    with :math:`f_i` the share of engaged social ties, :math:`c_i` capacity
    (time and resources limit how far social push moves anyone),
    :math:`\tau_i` trust and :math:`\kappa_{n(i)}` the cohesion of the
    citizen's network (0 if none); :math:`\pi` = ``MEMBER_PULL``. With
    capacity 1 and only the first term this is Watts' (2002) threshold rule.
    """
    return (
        contagion_weight * capacity * frac_engaged_ties
        + trust_weight * (trust - 0.5)
        + MEMBER_PULL * cohesion
    )


def effective_threshold(threshold, marginalised, barrier, outreach):
    """Threshold after the participation barrier, which outreach lowers.

    ``theta_i + b (1 - o)`` for marginalised citizens, ``theta_i`` otherwise.
    """
    return threshold + marginalised * barrier * (1.0 - outreach)


def burnout_probability(burnout_rate, capacity, cohesion):
    """Monthly chance an engaged citizen drops out: ``r (1 - c)(1 - kappa)``."""
    return burnout_rate * (1.0 - capacity) * (1.0 - cohesion)


def contact_probability(outreach, spontaneous_rate, capacity, marginalised):
    """Monthly chance a disengaged citizen engages without social push.

    ``OUTREACH_CONTACT * o * g + s * c``: inclusive outreach o reaching
    marginalised citizens (g = 1), or their own initiative at rate s scaled
    by capacity c.
    """
    return OUTREACH_CONTACT * outreach * marginalised + spontaneous_rate * capacity


def next_engaged(engaged, push, threshold, u, burnout_p, contact_p):
    """Engagement at t+1 (synchronous threshold contagion plus contact and burnout).

    An engaged citizen stays engaged unless ``u < burnout_p``. A disengaged one
    engages when ``push >= threshold`` (Watts 2002) or ``u < contact_p``. One
    uniform ``u`` serves both cases since they are exclusive. ``engaged`` is
    a numpy bool or bool array; the choice is written with ``&``, ``|`` and
    ``~`` rather than ``np.where`` so that it also compiles to plain scalar
    code in :mod:`civsim.kernels`.
    """
    stay = u >= burnout_p
    join = (push >= threshold) | (u < contact_p)
    return (engaged & stay) | (~engaged & join)


# --------------------------------------------------------------------------
# Trust and responsiveness (strand 3)


MAX_PRIORITY_FOCUS = 4


def priorities(values, outcomes, focus):
    r"""What citizens push for: the domains they value, weighted by the gaps they live with.

    .. math:: p_k = v_k (1 - O_k)^\gamma / \textstyle\sum_j v_j (1 - O_j)^\gamma

    with the citizens' own valued-outcome weights :math:`v` (by group, and by
    the domain each citizen champions), integer focus :math:`\gamma` (1 = in
    proportion to the gap; higher: people put what they lack most first);
    their values if there is no gap. The power is taken by repeated
    multiplication, so it is bit-identical for any array shape.
    """
    gap = 1.0 - outcomes
    powered = gap
    emphasised = gap
    for level in range(2, MAX_PRIORITY_FOCUS + 1):
        powered = powered * gap
        emphasised = np.where(focus == level, powered, emphasised)
    emphasised = values * emphasised
    total = emphasised.sum(axis=-1, keepdims=True)
    return np.where(total > 0, emphasised / np.where(total > 0, total, 1.0), values)


def valued_index(values, outcomes):
    """Valued-outcome index: outcomes weighted by what the citizens value, ``sum_k v_k O_k``."""
    return (values * outcomes).sum(axis=-1)


def value_profiles(group_values, diversity):
    r"""Valued-outcome weights of a citizen of group g who champions domain t, shape (G, K, K).

    .. math:: v_{gt} = (1 - d)\,\bar v_g + d\,e_t

    :math:`\bar v_g` is the group's profile (a distribution over domains),
    :math:`e_t` the unit vector of the championed domain and d the
    ``value_diversity``: 0 gives everyone their group's values.
    """
    k = group_values.shape[-1]
    return (1.0 - diversity) * group_values[:, None, :] + diversity * np.eye(k)[None, :, :]


def agenda_match(weights, prio):
    """How well the council's weights match a cell's priorities: ``K w . p``.

    Equals 1 for a uniform agenda, more when the agenda favours what the cell lacks.
    """
    k = prio.shape[-1]
    return k * np.einsum("...k,...mgk->...mg", weights, prio)


def trust_target(match, trend, budget_change, cut_sensitivity):
    r"""Trust a citizen would settle at, given how responsive institutions are.

    .. math:: T = \mathrm{clip}(1/2 + a (m - 1) + b\,\Delta V + s\,\Delta B, 0, 1)

    with agenda match m, recent improvement of the valued-outcome index
    :math:`\Delta V` and the council's yearly budget change :math:`\Delta B`
    (negative under cuts). Co-production reaches trust only through what it
    does to outcomes (:math:`\Delta V`), not as a term of its own.
    """
    raw = 0.5 + RESPONSIVENESS_GAIN * (match - 1.0) + IMPROVEMENT_GAIN * trend + cut_sensitivity * budget_change
    return np.clip(raw, 0.0, 1.0)


def next_trust(trust, target, rate):
    """Trust moves toward its target: ``tau + r (T - tau)``."""
    return trust + rate * (target - trust)


# --------------------------------------------------------------------------
# Networks (strands 3 and 6)


def keeps_membership(in_network, engaged, network_dissolving):
    """A member stays in their network while engaged and while the network survives."""
    return in_network & engaged & ~network_dissolving


def join_choice(u, join_rate, cum_weight):
    r"""Which of a neighbourhood's open networks a citizen joins, or -1.

    Joins when ``u < join_rate``; the same uniform, rescaled to
    :math:`x = u / r \cdot W` with W the total weight, picks the network whose
    cumulative weight first exceeds x. ``cum_weight`` (..., n) holds the
    cumulative weights of the open networks in slot order (``inf`` past the
    last one, so padded rows work); weights are members + 1, so people join
    where others already are and a new network must win its first members.
    """
    finite = np.isfinite(cum_weight)
    total = np.max(np.where(finite, cum_weight, 0.0), axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.where(join_rate > 0, u / np.where(join_rate > 0, join_rate, 1.0), 0.0)[..., None] * total
    pick = (cum_weight <= x).sum(axis=-1)
    n = finite.sum(axis=-1)
    return np.where((u < join_rate) & (n > 0), np.minimum(pick, n - 1), -1).astype(np.int64)


def network_resources(resources, member_capacity, grant, dues):
    """Resources at t+1: keep what was not spent, add dues and grants.

    ``r' = (1 - s) r + d * sum(capacity of members) + grant``, s = ``NETWORK_SPEND_RATE``.
    """
    return (1.0 - NETWORK_SPEND_RATE) * resources + dues * member_capacity + grant


def network_cohesion(cohesion, member_trust_mean, has_members):
    """Cohesion follows the members' mean trust; an empty network loses it."""
    target = np.where(has_members, member_trust_mean, 0.0)
    return cohesion + COHESION_RATE * (target - cohesion)


def network_dissolves(alive, members, age, min_members):
    """A network older than the grace period with too few members dissolves."""
    return alive & (age >= NETWORK_GRACE_MONTHS) & (members < min_members)


def network_wants_to_scale(alive, dissolving, members, cohesion, found_size, u, scaling_rate):
    """A large, cohesive network seeds a sister network elsewhere ('scaling across')."""
    return alive & ~dissolving & (members >= 2 * found_size) & (cohesion >= 0.5) & (u < scaling_rate)


def founds_network(u, unaffiliated, found_size, enabled):
    r"""Whether a neighbourhood's engaged citizens outside any network found one this month.

    .. math:: \Pr = 1 - \exp(-\phi\,U / n_f) \quad \text{if } U \ge n_f

    U engaged citizens outside networks, :math:`n_f` = ``network_found_size``,
    :math:`\phi` = ``FOUNDING_RATE``: founding scales with the size and the
    engagement of the neighbourhood.
    """
    rate = FOUNDING_RATE * unaffiliated / np.maximum(found_size, 1.0)
    return enabled & (unaffiliated >= found_size) & (u < 1.0 - np.exp(-rate))


def scaling_gift(parent_resources):
    """Resources a network gives the sister network it seeds; returns ``(gift, parent's remainder)``."""
    gift = SCALING_TRANSFER * parent_resources
    return gift, parent_resources - gift


def claim_slots(alive, slot_hood, dissolving, founders, hood_focus, wants_scale, focus):
    """Resolve network founding and scaling for one run (small arrays).

    Parameters
    ----------
    alive, dissolving : (S,) bool
    slot_hood : (S,) int
        Neighbourhood of each slot.
    founders : (M,) bool
        Neighbourhoods with enough engaged citizens outside any network.
    hood_focus : (M,) int
        Domain with the largest gap in each neighbourhood.
    wants_scale : (S,) bool
    focus : (S,) int

    Returns
    -------
    new_focus : (S,) int
        Focus of each newly opened slot, -1 where none opens.
    parent : (S,) int
        Network that seeded the slot by scaling, -1 for local founding.

    Notes
    -----
    Founding goes first, one per neighbourhood, into its first free slot
    (free: not alive at t). Then networks that want to scale, in slot order,
    each take the first free slot of the neighbourhood (other than their own)
    with the fewest live networks, ties to the lowest index.
    """
    S = alive.shape[0]
    M = founders.shape[0]
    new_focus = np.full(S, -1, dtype=np.int64)
    parent = np.full(S, -1, dtype=np.int64)
    taken = alive.copy()
    for m in range(M):
        if founders[m]:
            free = np.flatnonzero((slot_hood == m) & ~taken)
            if free.size:
                new_focus[free[0]] = hood_focus[m]
                taken[free[0]] = True
    live = np.bincount(slot_hood[taken & ~dissolving], minlength=M)
    for s in np.flatnonzero(wants_scale):
        has_free = np.bincount(slot_hood[~taken], minlength=M) > 0
        has_free[slot_hood[s]] = False
        if not has_free.any():
            break
        m = int(np.argmin(np.where(has_free, live, np.iinfo(np.int64).max)))
        slot = np.flatnonzero((slot_hood == m) & ~taken)[0]
        new_focus[slot] = focus[s]
        parent[slot] = s
        taken[slot] = True
        live[m] += 1
    return new_focus, parent


# --------------------------------------------------------------------------
# Coordination between agencies (strand 2)


def coordination_link(remit, cross_impact):
    """How linked two agencies' remits are: ``min(1, r_a (I + |C|) r_b)``, zero diagonal."""
    k = cross_impact.shape[0]
    link = np.minimum(1.0, remit @ (np.eye(k) + np.abs(cross_impact)) @ remit.T)
    np.fill_diagonal(link, 0.0)
    return link


def affordable_ties(budget, budget0, core, cost, subsidy):
    r"""How many coordination partnerships an agency can pay for from its discretionary budget.

    .. math:: n^{max}_a = \lfloor \max(0, B_a - \chi B^0_a + F_a) / (c B^0_a) \rfloor

    Core (statutory) delivery, a share :math:`\chi` of the starting budget,
    is paid first; each partnership costs staff time :math:`c B^0_a`, fixed
    in money; the council's convening money :math:`F_a` (its share per
    agency) pays part of it. Cuts shrink the discretionary part first, so
    partnerships are what goes, without any rule saying so. Unlimited when
    ``cost`` is 0. (The 1e-9 keeps 0.2 / 0.04 at 5, not 4.9999.)
    """
    spare = np.maximum(0.0, budget - core * budget0 + subsidy)
    unit = cost * budget0
    ratio = spare / np.where(unit > 0, unit, 1.0)
    return np.where(unit > 0, np.floor(ratio + 1e-9), np.inf)


def overstretch(n_partners, affordable):
    """Share of an agency's partnerships it cannot pay for: ``max(0, 1 - n_max / n)``."""
    return np.where(n_partners > affordable, 1.0 - affordable / np.maximum(n_partners, 1.0), 0.0)


def next_coordination(tied, link, u, propensity, convening, over_pair, room_pair, decay, enabled):
    r"""Coordination ties at t+1 for agency pairs.

    A tie forms with probability :math:`p\,\ell_{ab}(1 + \gamma F)` (linked
    remits, convening funds F) when both agencies can pay for another
    partnership (``room_pair``), and lapses with probability
    :math:`d + (1 - d)\,x_{ab}`, where :math:`x_{ab}` is the larger
    :func:`overstretch` of the two.
    """
    p_form = propensity * link * (1.0 + CONVENING_GAIN * convening) * room_pair
    p_drop = decay + (1.0 - decay) * over_pair
    return np.where(tied, u >= p_drop, u < p_form) & enabled


def agency_effort(monthly_budget, monthly_budget0, efficiency, n_partners, cost, openness, monthly_subsidy):
    r"""Delivery effort after partnership and co-production staff time.

    .. math:: E_a = \eta_a \max(0, B_a/12 - \max(0, n_a c B^0_a - F_a)/12)(1 - \omega^c \omega_a)

    Partnerships cost fixed staff time, of which the council's convening
    money :math:`F_a` pays a part; openness :math:`\omega_a` to co-production
    takes a share ``OPENNESS_COST`` of the effort at full openness.
    """
    paid = np.maximum(0.0, cost * n_partners * monthly_budget0 - monthly_subsidy)
    left = np.maximum(0.0, monthly_budget - paid)
    return left * efficiency * (1.0 - OPENNESS_COST * openness)


def domain_effort(effort, remit_share, partner_remit_share, partner_frac, cross_impact, benefit):
    r"""Effort an agency puts into each domain, with joined-up spill-over.

    .. math:: e_{ak} = E_a\,(\hat r_{ak} + \beta\,\phi_a \textstyle\sum_j C_{kj} \bar r_{aj})

    :math:`\hat r_a` is the agency's remit share, :math:`\bar r_a` the mean
    remit share of its partners, :math:`\phi_a` its share of possible partners.
    Coordination pays only through C: with weak interdependence it gains
    nothing while its cost stays.
    """
    spill = np.einsum("kj,...aj->...ak", cross_impact, partner_remit_share)
    return effort[..., None] * (remit_share + benefit * partner_frac[..., None] * spill)


# --------------------------------------------------------------------------
# Alliances (strand 6)


def next_alliance(tied, affinity, u, propensity, decay, enabled):
    """Alliance ties at t+1: form with ``p * affinity``, lapse with ``d``."""
    return np.where(tied, u >= decay, u < propensity * affinity) & enabled


def network_affinity(focus_a, focus_b, cross_impact, cohesion_a, cohesion_b):
    """Affinity of two networks: shared focus (1) or linked focus (|C|), times mean cohesion."""
    same = focus_a == focus_b
    linked = np.abs(cross_impact[focus_a, focus_b])
    return np.where(same, 1.0, linked) * 0.5 * (cohesion_a + cohesion_b)


def agency_network_affinity(remit_of_focus, openness, trust):
    """Affinity of an agency and a network: the agency's remit covers the focus, x openness x trust."""
    return remit_of_focus * openness * trust


def pooled_multiplier(cohesion, n_allies, synergy):
    """Effect multiplier of a network's action: ``(1 + kappa)(1 + sigma * allies)``."""
    return (1.0 + cohesion) * (1.0 + synergy * n_allies)


# --------------------------------------------------------------------------
# Delivery and outcomes


def allocation(need, pop_share, targeting):
    r"""Share of each domain's effort going to each cell (m, g).

    .. math:: a_{mgk} \propto \pi_{mg}\,((1 - t) + t\,n_{mgk} / \bar n_k)

    with population shares :math:`\pi`, need n = 1 - O and targeting t.
    Returns the per-capita input multiplier ``a / pi`` (1 everywhere when t = 0).
    """
    mean_need = np.einsum("...mgk,...mg->...k", need, pop_share)
    rel = need / np.where(mean_need > 0, mean_need, 1.0)[..., None, None, :]
    raw = (1.0 - targeting) + targeting * rel
    norm = np.einsum("...mgk,...mg->...k", raw, pop_share)
    return raw / np.where(norm > 0, norm, 1.0)[..., None, None, :]


def pressured_baseline(base, outcomes, cross_impact, interdependence):
    r"""Level each domain decays toward, lifted or dragged by the others.

    .. math:: B_{mgk} = b_{mg} + \iota \textstyle\sum_j C_{kj} (O_{mgj} - b_{mg})
    """
    coupled = np.einsum("kj,...j->...k", cross_impact, outcomes - base[..., None])
    return base[..., None] + interdependence * coupled


def next_outcomes(outcomes, reference, inputs, baseline, rate, decay, aid_rate):
    r"""Outcome state at t+1.

    .. math:: O' = \mathrm{clip}(O + \alpha I (1 - O) - \delta (O - B)
              + \mu_{mg} \max(0, R - O), 0, 1)

    I is service delivery plus co-production input (1 = the reference
    per-capita input), with diminishing returns through (1 - O); B is the
    pressured baseline; the last term is mutual aid after a shock, pulling
    back toward the pre-shock level R at the cell's aid rate
    :math:`\mu_{mg}` (zero outside the aid window, :func:`aid_rate`).
    """
    gain = rate * inputs * (1.0 - outcomes)
    aid = aid_rate[..., None] * np.maximum(0.0, reference - outcomes)
    return np.clip(outcomes + gain - decay * (outcomes - baseline) + aid, 0.0, 1.0)


def aid_rate(mutual_aid, own_share, ally_share, active):
    r"""Mutual-aid rate of a cell: ``mu * min(1, e + ALLY_AID * e_allies) * active``.

    e is the engaged share of the cell's own residents (each counted once),
    :math:`e_{allies}` the mean, over the neighbourhoods allied with this one,
    of their spare engaged share (0 for those in an aid window themselves),
    and ``active`` 1 during the ``AID_MONTHS`` after a shock.
    """
    return mutual_aid * np.minimum(1.0, own_share + ALLY_AID * ally_share) * active


def aid_strain(mutual_aid, active):
    """Extra burnout hazard of the engaged in a neighbourhood giving aid: ``AID_STRAIN * mu * active``."""
    return AID_STRAIN * mutual_aid * active


def after_shock(reference, aid_left, outcomes_before, hit):
    """Pre-shock level and aid months left after this month's shocks (hit: (..., M) 0/1).

    A hit neighbourhood remembers its outcomes just before the shock and gets
    ``AID_MONTHS`` of aid; elsewhere the window runs down by one month.
    """
    h = hit[..., :, None, None] > 0
    ref = np.where(h, outcomes_before, reference)
    left = np.where(hit > 0, float(AID_MONTHS), np.maximum(0.0, aid_left - 1.0))
    return ref, left


def apply_shock(outcomes, hit, domain_mask, size):
    """Outcomes right after a shock: ``O (1 - size * hit_m * mask_k)``."""
    return outcomes * (1.0 - size * hit[..., :, None, None] * domain_mask)


def next_trend(trend_level, index):
    """Slow moving average of a cell's valued-outcome index (time constant 12 months)."""
    return trend_level + (index - trend_level) / TREND_MONTHS


# --------------------------------------------------------------------------
# Council (strands 1 and austerity)


def council_budget(budget0, austerity_rate, year, shock_factor, path_factor):
    """Council's annual budget: ``B0 * path(year) * (1 + r)^year * shock factor``."""
    return budget0 * path_factor * (1.0 + austerity_rate) ** year * shock_factor


def lever_costs(outreach, voice_weight, targeting):
    """Share of the council budget its participation levers cost.

    ``OUTREACH_COST * o + VOICE_COST * v + TARGETING_COST * t``: outreach
    workers, participatory processes and needs assessment are paid from the
    same budget as services, so under austerity they compete with them.
    """
    return OUTREACH_COST * outreach + VOICE_COST * voice_weight + TARGETING_COST * targeting


def budget_split(total, service0, convening, grants, lever_cost, protected_share, protected_factor):
    """Split the council budget into convening, grants, protected care and the rest.

    Statutory care keeps ``protected_share * service0 * protected_factor``
    (its own path, or growth with demand) as long as the service budget
    allows; cuts fall on everything else.
    """
    service = total * (1.0 - convening - grants - lever_cost)
    protected = np.minimum(service, protected_share * service0 * protected_factor)
    return total * convening, total * grants, protected, service - protected


def commissioning_shares(historic, remit, weights, need, openness, outcomes_mode, social_value):
    r"""Each agency's share of the unprotected service budget.

    .. math:: s_a = (1 - m) h_a + m \frac{q_a}{\sum_b q_b},\quad
              q_a = \textstyle\sum_k \hat r_{ak} w_k n_k \,(1 + v\,(\omega_a - \bar\omega))

    Historic shares h keep fixed departmental splits; outcomes-based
    commissioning m funds agencies by the weighted need of their remit, and
    social value v favours agencies open to co-production.
    """
    remit_share = remit / remit.sum(axis=-1, keepdims=True)
    score = np.einsum("...ak,...k->...a", remit_share, weights * need)
    score = score * np.maximum(0.0, 1.0 + social_value * (openness - openness.mean(axis=-1, keepdims=True)))
    total = score.sum(axis=-1, keepdims=True)
    outcome_share = np.where(total > 0, score / np.where(total > 0, total, 1.0), historic)
    return (1.0 - outcomes_mode) * historic + outcomes_mode * outcome_share


def agenda_weights(weights, own, need, voice, allied, voice_weight, need_weight, inertia, alliance_voice):
    r"""The council's priority weights after its yearly revision.

    .. math:: w' = \lambda w + (1 - \lambda)\,[(1 - v - n) w^{own} + n\,\hat N + v\,\hat V]

    :math:`\hat N` is measured need, :math:`\hat V` citizen voice (engaged
    citizens' priorities, normalised to a distribution; the unengaged are not
    heard) plus, with weight ``alliance_voice``, the focus of alliances past
    the influence threshold (a distribution scaled by the share of citizens
    the alliance represents), renormalised.
    """
    heard = normalise(voice, fallback=need)
    mixed = normalise(heard + alliance_voice * allied, fallback=need)
    target = (1.0 - voice_weight - need_weight) * own + need_weight * need + voice_weight * mixed
    return inertia * weights + (1.0 - inertia) * target


def normalise(x, fallback):
    """``x / sum(x)`` over the last axis, or ``fallback`` where the sum is zero."""
    total = x.sum(axis=-1, keepdims=True)
    return np.where(total > 0, x / np.where(total > 0, total, 1.0), fallback)
