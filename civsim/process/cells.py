"""Shocks and the cells (neighbourhood x group): priorities, inputs, outcomes and mutual aid.

Part of :mod:`civsim.process`; see its docstring for shapes and conventions.
"""

from __future__ import annotations

import numpy as np

from civsim import rules
from civsim.process.common import Params, col
from civsim.world import SHOCK_KINDS


def shock_hits(P: Params, month: int, u: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which runs have a shock this month, of which kind, where.

    Returns ``occurred`` (B,) bool, ``kind`` (B,) index into SHOCK_KINDS and
    ``hit`` (B, M) 0/1. A scheduled shock has the scheduled kind; a random
    one (rate ``random_shock_rate``/12 a month, none during burn-in) is economic.
    """
    scheduled = (P["shock_month"] == month) & (month >= 0)
    randomly = (u[:, 0] < P["random_shock_rate"] / rules.MONTHS_PER_YEAR) & (month >= 0)
    occurred = scheduled | randomly
    kind = np.where(scheduled, P["shock_kind"], SHOCK_KINDS.index("economic")).astype(np.int64)
    hit = ((u[:, 1:] < col(P["shock_scope"], 2)) & occurred[:, None]).astype(float)
    return occurred, kind, hit


# --------------------------------------------------------------------------
# Cells: priorities, inputs, outcomes


def cell_context(
    outcomes: np.ndarray, weights: np.ndarray, focus: np.ndarray, values: np.ndarray
) -> dict[str, np.ndarray]:
    """Priorities, valued-outcome index and agenda match per cell (m, g).

    ``focus`` is the runs' ``priority_focus``, shape (B,); ``values`` (B, M,
    G, K) the residents' mean valued-outcome weights.
    """
    prio = rules.priorities(values, outcomes, col(focus, 4))
    return {
        "prio": prio,
        "index": rules.valued_index(values, outcomes),
        "match": rules.agenda_match(weights, prio),
    }


def delivery_inputs(
    P: Params, effort_k: np.ndarray, outcomes: np.ndarray, pop_share: np.ndarray
) -> np.ndarray:
    """Service input per cell and domain (B, M, G, K), 1 = the reference per-capita input.

    The reference is a budget of 1 per citizen a year spread evenly over K
    domains: ``E_k a_mgk 12 K``.
    """
    K = outcomes.shape[-1]
    alloc = rules.allocation(1.0 - outcomes, pop_share, col(P["needs_targeting"], 4))
    return effort_k[:, None, None, :] * alloc * (rules.MONTHS_PER_YEAR * K)


def coproduction_inputs(
    P: Params,
    open_k: np.ndarray,
    prio: np.ndarray,
    unaffiliated: np.ndarray,
    members_k: np.ndarray,
    pop: np.ndarray,
) -> np.ndarray:
    r"""Co-production input per cell and domain (B, M, G, K).

    .. math:: P_{mgk} = \epsilon\,\omega_k K (U_{mg} p_{mgk} + Q_{mgk}) / n_{mg}

    U: summed ``c tau`` of engaged citizens outside networks (who work on
    their own priorities p); Q: the same for network members, times their
    network's pooled multiplier, on its focus domain; :math:`\omega_k`
    openness of the agencies working on k.
    """
    K = prio.shape[-1]
    per_cap = (unaffiliated[..., None] * prio + members_k) / np.where(pop > 0, pop, 1.0)[..., None]
    return col(P["coproduction_effort"], 4) * open_k[:, None, None, :] * K * per_cap


def network_action_inputs(action_mk: np.ndarray, pop: np.ndarray, G: int) -> np.ndarray:
    """Input of networks' spending on their focus in their neighbourhood (B, M, G, K)."""
    K = action_mk.shape[-1]
    hood_pop = pop.sum(axis=2)
    per_cap = action_mk / np.where(hood_pop > 0, hood_pop, 1.0)[..., None]
    return np.repeat(per_cap[:, :, None, :] * (rules.MONTHS_PER_YEAR * K), G, axis=2)


def openness_by_domain(P: Params, delivery: np.ndarray, openness: np.ndarray) -> np.ndarray:
    r"""Openness of each domain's delivery (B, K): the agencies' openness weighted by their effort there.

    .. math:: \bar\omega_k = \textstyle\sum_a e_{ak}\,\omega_a / \sum_a e_{ak}

    with :math:`e_{ak}` agency a's delivery effort in domain k
    (:func:`civsim.rules.domain_effort`): citizens can co-produce only the
    part of a service that open agencies deliver, so commissioning that moves
    money toward open agencies (social value, or voluntary and community
    agencies under outcomes-based commissioning) makes more of the work
    co-producible. Falls back to ``coproduction_openness`` where no agency
    delivers.
    """
    num = np.einsum("bak,ba->bk", delivery, openness)
    den = delivery.sum(axis=1)
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), col(P["coproduction_openness"], 2))


def update_outcomes(
    P: Params,
    month: int,
    outcomes: np.ndarray,
    reference: np.ndarray,
    inputs: np.ndarray,
    base: np.ndarray,
    cross_impact: np.ndarray,
    aid: np.ndarray,
) -> np.ndarray:
    """Outcomes at t+1 (rules.next_outcomes); demand presses from month 0 on.

    Rising demand widens the shortfall of the structural baseline,
    ``1 - (1 - b)(1 + d)^years``: it falls hardest where the baseline is
    already low (the marginalised, deprived neighbourhoods).
    """
    growth = (1.0 + P["demand_growth"]) ** (max(month, 0) / rules.MONTHS_PER_YEAR)
    base_t = np.maximum(0.0, 1.0 - (1.0 - base) * col(growth, 3))
    baseline = rules.pressured_baseline(base_t, outcomes, cross_impact, col(P["interdependence"], 4))
    return rules.next_outcomes(
        outcomes,
        reference,
        inputs,
        baseline,
        col(P["delivery_effect"], 4),
        col(P["decay_rate"], 4),
        aid,
    )


def hood_links(ally: np.ndarray, net_hood: np.ndarray, M: int) -> np.ndarray:
    """(B, M, M) 1 where a network of one neighbourhood is allied with one of another."""
    S = net_hood.shape[0]
    onehot = np.zeros((S, M))
    onehot[np.arange(S), net_hood] = 1.0
    nn = ally[:, :S, :S].astype(float)
    link = onehot.T @ nn @ onehot > 0  # counts of allied pairs: whole numbers, exact in any order
    link[:, np.arange(M), np.arange(M)] = False
    return link.astype(float)


def aid_rates(
    P: Params, engaged_cell: np.ndarray, pop: np.ndarray, link: np.ndarray, aid_left: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mutual-aid rate per cell (B, M, G) and the aid strain per neighbourhood (B, M).

    Each engaged resident counts once, in their own cell. A neighbourhood
    that is not itself in an aid window lends its engaged share to the hit
    neighbourhoods it is allied with, split equally among them, so a hit
    place receives more help the more unhit places it is allied with and
    an unhit place allied with many hit ones is spread thin
    (:func:`civsim.rules.aid_rate`, :func:`civsim.rules.lent_aid`). Helpers
    bear the strain of what they give (:func:`civsim.rules.aid_strain`).
    """
    active = (aid_left > 0).astype(float)
    own = engaged_cell / np.where(pop > 0, pop, 1.0)
    hood_pop = pop.sum(axis=2)
    hood_share = engaged_cell.sum(axis=2) / np.where(hood_pop > 0, hood_pop, 1.0)
    asked = np.einsum("bmn,bm->bn", link, active) * (1.0 - active)
    lent = rules.lent_aid(hood_share, asked)
    ally = np.einsum("bmn,bn->bm", link, lent)
    mu = col(P["mutual_aid"], 3)
    rate = rules.aid_rate(mu, own, ally[:, :, None], active[:, :, None])
    return rate, rules.aid_strain(col(P["mutual_aid"], 2), active, asked)
