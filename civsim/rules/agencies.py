"""Agencies: coordination ties paid from discretionary budgets, and joined-up delivery (strand 2).

Part of :mod:`civsim.rules`; see its docstring for notation and conventions.
"""

from __future__ import annotations

import numpy as np

CONVENING_GAIN = 40.0
"""Tie-formation multiplier per unit share of budget spent convening (5% -> x3)."""
COORDINATION_PROPENSITY = 0.03
"""Monthly chance that two agencies with fully linked remits form a partnership (before
convening money). A behavioural constant since 2026-12-02 (was `coordination_propensity`):
partnerships are limited by what agencies can pay for (:func:`affordable_ties`), so above
a few per cent the propensity sets how fast they form, not how many; from 0 to 1 it moved
no outcome, at the baseline or where joined-up working pays (docs/levers*.md). Agency heads
in a workshop room name partners instead (:func:`next_coordination`'s pledges)."""
OPENNESS_COST = 0.1
"""Share of an agency's delivery effort that full openness to co-production takes in staff time."""
FOCUS_SHARE = 0.5
"""Share of its delivery effort an agency puts into the remit domain it focuses on, on top of the
rest spread over its remit as before (an agency head's choice in a workshop room)."""


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


def next_coordination(
    tied, link, u, propensity, convening, over_pair, room_pair, decay, enabled, pledged=False
):
    r"""Coordination ties at t+1 for agency pairs.

    A tie forms with probability :math:`p\,\ell_{ab}(1 + \gamma F)` (linked
    remits, convening funds F) when both agencies can pay for another
    partnership (``room_pair``), and lapses with probability
    :math:`d + (1 - d)\,x_{ab}`, where :math:`x_{ab}` is the larger
    :func:`overstretch` of the two.

    A *pledged* pair (one of the two named the other as a partner, e.g. an
    agency head in a workshop room) forms its tie whenever both can pay for
    another partnership, and its tie does not lapse by the random decay
    :math:`d`, only with probability :math:`x_{ab}` when overstretched:
    a pledge does not lift the budget constraint.
    """
    p_form = np.where(pledged, room_pair, propensity * link * (1.0 + CONVENING_GAIN * convening) * room_pair)
    p_drop = np.where(pledged, over_pair, decay + (1.0 - decay) * over_pair)
    return np.where(tied, u >= p_drop, u < p_form) & enabled


def contracted_openness(openness, social_value, budget, own_income):
    r"""An agency's openness to co-production under social-value commissioning.

    .. math:: \omega^c_a = \omega_a + v\, s_a (1 - \omega_a),\quad
              s_a = \max(0, B_a - Y_a) / B_a

    Social-value clauses (Public Services (Social Value) Act 2012; Lambeth's
    co-operative commissioning) make involving residents part of what the
    council pays for: weight v = ``social_value_weight`` closes that share of
    the gap to full openness on the commissioned part :math:`s_a` of the
    agency's budget (the rest, own income :math:`Y_a`, keeps its own
    openness). Not free: openness takes staff time from delivery
    (:func:`agency_effort`), and it pays only where citizens are engaged and
    trusting enough to co-produce.
    """
    share = np.maximum(0.0, budget - own_income) / np.where(budget > 0, budget, 1.0)
    return openness + social_value * share * (1.0 - openness)


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


def focused_share(remit_share, focus):
    r"""Share of an agency's effort per domain when it focuses on one domain of its remit.

    .. math:: \tilde r_{ak} = (1 - f)\,\hat r_{ak} + f\,[k = k^*_a] \quad \text{if } \hat r_{ak^*_a} > 0

    :math:`k^*_a` is the focus (``-1``: none), f = ``FOCUS_SHARE``. A focus
    outside the agency's remit, or none, leaves the even remit share
    :math:`\hat r_a`. The shares still sum to one: focus moves effort
    between domains, it does not add any.
    """
    k = remit_share.shape[-1]
    onehot = np.asarray(focus)[..., None] == np.arange(k)
    covered = np.any(onehot & (remit_share > 0), axis=-1, keepdims=True)
    return np.where(covered, (1.0 - FOCUS_SHARE) * remit_share + FOCUS_SHARE * onehot, remit_share)


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
