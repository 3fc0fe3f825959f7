"""The council: budget paths, lever costs, budget split, commissioning and agenda (strand 1, austerity).

Part of :mod:`civsim.rules`; see its docstring for notation and conventions.
"""

from __future__ import annotations

import numpy as np

OUTREACH_COST = 0.03
"""Share of the council budget that full inclusive outreach costs (outreach workers)."""
VOICE_COST = 0.02
"""Share of the council budget that running participatory processes at full voice weight costs."""
TARGETING_COST = 0.01
"""Share of the council budget that fully needs-based allocation costs (assessment)."""
ALLIANCE_VOICE = 0.5
"""Weight of organised voice (alliances past the influence threshold) beside citizen voice in
the agenda. A constant since 2026-12-02 (was `alliance_voice`): from 0 to 1 it moved the agenda
(pattern d) but no outcome, at the baseline or around the alliances preset (docs/levers*.md)."""
INFLUENCE_THRESHOLD = 0.05
"""Share of all citizens an alliance's networks must hold to be heard as organised voice. A
constant since 2026-12-02 (was `influence_threshold`), for the same reason as ALLIANCE_VOICE."""
AGENDA_INERTIA = 0.5
"""Share of last year's priority weights kept at each revision. A behavioural constant, not a
lever: it sets only how fast the agenda reaches its stationary state, and from 0 to 0.75 it moved
no outcome (docs/levers.md, 2026-12-02), so it left the schema."""


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


def departmental_view(historic, remit_share, protected_share, protected):
    r"""The council's own priorities: where its money goes, by domain.

    .. math:: w^{own}_k = \rho\,e_k + (1 - \rho) \textstyle\sum_a h_a \hat r_{ak}

    A council's framework mirrors its departments (strand 1's starting
    point): the protected statutory share :math:`\rho` of its service budget
    (care, the domain marked by the 0/1 vector e) and the historic shares h
    of the agencies it funds, spread over their remits :math:`\hat r`. It is
    not what residents value: voice and measured need are what move the
    agenda toward them.
    """
    spend = np.einsum("...a,...ak->...k", historic, remit_share)
    own = protected_share[..., None] * protected + (1.0 - protected_share[..., None]) * spend
    return normalise(own, fallback=np.full_like(own, 1.0 / own.shape[-1]))


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
