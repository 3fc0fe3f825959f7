"""Citizen networks and alliances: joining, resources, founding, scaling across, allying (strands 3 and 6).

Part of :mod:`civsim.rules`; see its docstring for notation and conventions.
"""

from __future__ import annotations

import numpy as np

NETWORK_SPEND_RATE = 0.1
"""Share of its resources a network spends on action each month."""
NETWORK_GRACE_MONTHS = 6
"""Age before a network with too few members dissolves."""
SCALING_TRANSFER = 0.25
"""Share of its resources a network gives the sister network it seeds."""
COHESION_RATE = 0.1
"""Monthly speed at which a network's cohesion follows its members' trust."""
FOUNDING_RATE = 0.05
"""Monthly founding hazard per ``NETWORK_FOUND_SIZE`` engaged citizens outside any network."""
NETWORK_FOUND_SIZE = 6.0
"""Engaged citizens without a network per founding group. A behavioural constant, not a
lever: from 2 to 30 it moved no outcome (docs/levers.md, 2026-12-02), so it left the schema."""
SCALING_RATE = 0.02
"""Monthly chance a large, cohesive network seeds a sister network elsewhere ('scaling
across'). A behavioural constant: from 0 to 1 it moved no outcome (docs/levers.md), so it
left the schema."""


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

    U engaged citizens outside networks, :math:`n_f` = ``NETWORK_FOUND_SIZE``,
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


def next_alliance(tied, affinity, u, propensity, decay, enabled, pledged=False):
    """Alliance ties at t+1: form with ``p * affinity``, lapse with ``d``.

    A *pledged* pair (a network organiser named the other side as an ally)
    forms its tie whenever the two have anything in common (affinity > 0:
    for an agency, the network's focus is in its remit and it is open to
    co-production at all), and its tie does not lapse while the pledge holds.
    """
    p_form = np.where(pledged, affinity > 0, propensity * affinity)
    return np.where(tied, u >= np.where(pledged, 0.0, decay), u < p_form) & enabled


def campaign_focus(focus, campaign):
    """A network's focus where an organiser set a campaign (``campaign >= 0``), else its own.

    Networks are founded on their neighbourhood's most pressing gap and keep
    that focus for life; a campaign set for a neighbourhood's networks
    replaces it, and networks founded or seeded there while it holds take it.
    """
    return np.where(campaign >= 0, campaign, focus)


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
