"""Delivery, outcomes, shocks and mutual aid (strands 4 and 5).

Part of :mod:`civsim.rules`; see its docstring for notation and conventions.
"""

from __future__ import annotations

import numpy as np

TREND_MONTHS = 12.0
"""Time constant of the slow valued-outcome average that trust compares with."""
AID_MONTHS = 12
"""Months after a shock during which neighbours give mutual aid toward the pre-shock level."""
AID_STRAIN = 0.05
"""Extra monthly burnout hazard of an engaged citizen giving aid at ``mutual_aid`` = 1 (scaled by it)."""
ALLY_AID = 1.0
"""Weight of what an allied, unhit neighbourhood lends a hit one, relative to the hit place's own engaged.

1: helpers who come through an organised alliance are taken to be as
effective as neighbours; their time is split among the hit allies
(:func:`lent_aid`), and they bear the aid strain in proportion.
"""


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
    :math:`e_{allies}` the sum, over the unhit neighbourhoods allied with
    this one, of the share each lends it (:func:`lent_aid`), and ``active``
    1 during the ``AID_MONTHS`` after a shock.
    """
    return mutual_aid * np.minimum(1.0, own_share + ALLY_AID * ally_share) * active


def lent_aid(engaged_share, asked):
    """Engaged share an unhit neighbourhood lends each hit ally: ``e / asked`` (0 when none asks).

    ``asked`` is the number of allied neighbourhoods in an aid window (0 for
    a neighbourhood in one itself): its helpers split their time among them.
    """
    return np.where(asked > 0, engaged_share / np.maximum(asked, 1.0), 0.0)


def aid_strain(mutual_aid, active, asked):
    """Extra burnout hazard of the engaged in a neighbourhood giving aid.

    ``AID_STRAIN * mu`` in a neighbourhood in its aid window, and
    ``AID_STRAIN * mu * ALLY_AID`` in an unhit one lending to at least one
    allied neighbourhood (``asked`` > 0): helpers pay for what they give.
    """
    lending = ALLY_AID * (asked > 0)
    return AID_STRAIN * mutual_aid * np.maximum(active, lending)


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
