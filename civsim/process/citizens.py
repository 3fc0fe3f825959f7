"""Sums over citizens and what networks and agencies do with them.

Part of :mod:`civsim.process`; see its docstring for shapes and conventions.
"""

from __future__ import annotations

import numpy as np

from civsim import kernels, rules
from civsim.process.common import Params, col


def cell_index(hood: np.ndarray, group: np.ndarray, M: int, G: int) -> np.ndarray:
    """Each citizen's cell (m, g) as a flat index offset by run: ``(b M + m) G + g``, shape (B, N)."""
    B = group.shape[0]
    return np.arange(B)[:, None] * (M * G) + hood * G + group


def citizen_aggregates(
    cell: np.ndarray,
    engaged: np.ndarray,
    member: np.ndarray,
    capacity: np.ndarray,
    trust: np.ndarray,
    mult: np.ndarray,
    focus: np.ndarray,
    vtype: np.ndarray,
    pop: np.ndarray,
    K: int,
) -> dict[str, np.ndarray]:
    """Sums over citizens that the network and cell processes need, for B runs.

    Inputs are (B, N) citizen arrays, ``cell`` from :func:`cell_index`, per
    network slot (B, S) the pooled multiplier and focus, and
    ``pop`` (B, M, G). The sums are taken in one compiled pass
    (:func:`civsim.kernels.citizen_sums`) in citizen order, so they are the
    same for a batch of one or many.

    Returns per slot (B, S) ``members``, ``member_capacity``, ``member_trust``;
    per cell (B, M, G) ``engaged_cell``, ``engaged_members_cell``,
    ``unaffiliated`` (capacity x trust of engaged citizens outside networks)
    ``members_k`` (B, M, G, K, members' pooled action by their network's
    focus) and ``voice_type`` (B, M, G, K, engaged citizens by championed
    domain, members twice); per neighbourhood (B, M) ``unaffiliated_engaged_hood``
    and ``hood_trust`` (mean trust).
    """
    B, N = engaged.shape
    _, M, G = pop.shape
    S = mult.shape[1]
    MG = M * G
    members, member_capacity, member_trust, counts, unaffiliated, members_k, trust_cell, voice = (
        kernels.citizen_sums(
            np.ascontiguousarray(cell).ravel(),
            np.ascontiguousarray(engaged).ravel(),
            np.ascontiguousarray(member).ravel(),
            np.ascontiguousarray(capacity, dtype=float).ravel(),
            np.ascontiguousarray(trust, dtype=float).ravel(),
            np.ascontiguousarray(mult, dtype=float).ravel(),
            np.ascontiguousarray(focus).ravel(),
            np.ascontiguousarray(vtype).ravel(),
            N,
            S,
            MG,
            K,
        )
    )
    counts = counts.reshape(B, M, G, 2)
    return {
        "members": members.reshape(B, S),
        "member_capacity": member_capacity.reshape(B, S),
        "member_trust": member_trust.reshape(B, S),
        "engaged_members_cell": counts[..., 1],
        "engaged_cell": counts[..., 0] + counts[..., 1],
        "unaffiliated_engaged_hood": counts[..., 0].sum(axis=2),
        "unaffiliated": unaffiliated.reshape(B, M, G, 2)[..., 0],
        "members_k": members_k.reshape(B, M, G, K),
        "voice_type": voice.reshape(B, M, G, K),
        "hood_trust": trust_cell.reshape(B, M, G).sum(axis=2) / np.maximum(pop.sum(axis=2), 1),
    }


def hood_focus(voice_cell: np.ndarray, outcomes: np.ndarray, pop: np.ndarray) -> np.ndarray:
    """Focus of a network founded in each neighbourhood (B, M): what its engaged push for most.

    Where nobody is engaged, the domain with the largest population-weighted gap.
    """
    pushed = voice_cell.sum(axis=2)
    gap = np.einsum("bmgk,bmg->bmk", 1.0 - outcomes, pop)
    heard = pushed.sum(axis=-1, keepdims=True) > 0
    return np.argmax(np.where(heard, pushed, gap), axis=-1)


def coordination_room(
    P: Params, budget: np.ndarray, budget0: np.ndarray, n_partners: np.ndarray, convening: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each agency's overstretch and whether it can pay for one more partnership, both (B, A).

    ``convening`` (B,) is the council's yearly convening money, shared
    equally among the agencies as a subsidy to their partnership costs.
    """
    subsidy = col(convening / budget.shape[1], 2)
    affordable = rules.affordable_ties(
        budget, budget0, col(P["core_commitment"], 2), col(P["coordination_cost"], 2), subsidy
    )
    return rules.overstretch(n_partners, affordable), (n_partners + 1 <= affordable).astype(float)


def network_action(
    P: Params,
    resources: np.ndarray,
    mult: np.ndarray,
    alive: np.ndarray,
    net_hood: np.ndarray,
    focus: np.ndarray,
    M: int,
    K: int,
) -> np.ndarray:
    """Networks' spending on their focus, summed per neighbourhood and domain (B, M, K)."""
    B, S = resources.shape
    spent = np.where(alive, rules.NETWORK_SPEND_RATE * resources * mult, 0.0)
    idx = (np.arange(B)[:, None] * (M * K) + net_hood[None, :] * K + focus).ravel()
    return np.bincount(idx, weights=spent.ravel(), minlength=B * M * K).reshape(B, M, K)


# --------------------------------------------------------------------------
# Small shared quantities


def member_trust_mean(member_trust: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Mean trust of each network's members (0 if it has none)."""
    return np.where(members > 0, member_trust / np.maximum(members, 1.0), 0.0)


def network_grants(grant_pool: np.ndarray, n_citizens: int, members: np.ndarray) -> np.ndarray:
    """Monthly council grant to each network slot, in proportion to members (B, S)."""
    total = members.sum(axis=1, keepdims=True)
    return np.where(total > 0, col(grant_pool * n_citizens, 2) * members / np.maximum(total, 1.0), 0.0)


def partner_remit(coord: np.ndarray, remit_share: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Number of coordination partners (B, A) and their mean remit share (B, A, K)."""
    n = coord.sum(axis=2).astype(float)
    return n, (coord.astype(float) @ remit_share) / np.maximum(n, 1.0)[..., None]
