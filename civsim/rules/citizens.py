"""Citizens: engagement (Granovetter 1978; Watts 2002), own values, priorities and trust (strands 1, 3, 5).

Part of :mod:`civsim.rules`; see its docstring for notation and conventions.
"""

from __future__ import annotations

import numpy as np

MEMBER_PULL = 0.15
"""Push to stay engaged that a fully cohesive network gives its members."""
OUTREACH_CONTACT = 0.02
"""Monthly chance that full outreach brings a disengaged marginalised citizen in."""
RESPONSIVENESS_GAIN = 2.0
"""Trust response to how well the agenda matches a cell's priorities."""
IMPROVEMENT_GAIN = 5.0
"""Trust response to recent improvement of a cell's valued-outcome index."""


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


def contact_probability(outreach, spontaneous_rate, capacity, marginalised, barrier):
    """Monthly chance a disengaged citizen engages without social push.

    ``OUTREACH_CONTACT * o * g + s * c * (1 - g * b * (1 - o))``: inclusive
    outreach o reaching marginalised citizens (g = 1), or their own
    initiative at rate s scaled by capacity c. The participation barrier b
    (cost, language, time, being unwelcome), as far as outreach has not
    lowered it, holds back a marginalised citizen's own initiative as it
    raises their threshold (:func:`effective_threshold`): barriers stop
    people coming forward, not only being drawn in by friends.
    """
    left = marginalised * barrier * (1.0 - outreach)
    return OUTREACH_CONTACT * outreach * marginalised + spontaneous_rate * capacity * (1.0 - left)


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
    """Valued-outcome index: outcomes weighted by what the citizens value, ``sum_k v_k O_k / sum_k v_k``.

    The weights sum to 1 up to rounding; dividing by their sum keeps the
    index of full outcomes exactly 1.
    """
    return (values * outcomes).sum(axis=-1) / values.sum(axis=-1)


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
    raw = (
        0.5 + RESPONSIVENESS_GAIN * (match - 1.0) + IMPROVEMENT_GAIN * trend + cut_sensitivity * budget_change
    )
    return np.clip(raw, 0.0, 1.0)


def next_trust(trust, target, rate):
    """Trust moves toward its target: ``tau + r (T - tau)``."""
    return trust + rate * (target - trust)
