"""The council's yearly cycle: budget, agenda, voice and allied voice (strands 1, 2 and 6).

Part of :mod:`civsim.process`; see its docstring for shapes and conventions.
"""

from __future__ import annotations

import numpy as np

from civsim import kernels, rules
from civsim.process.common import Params, col, path_factor


def yearly_budget(
    P: Params, year: int, first: bool, c: dict[str, np.ndarray], ag: dict[str, np.ndarray], need_k: np.ndarray
) -> None:
    """The council's yearly cycle after any agenda revision: budget, split, commissioning.

    ``year`` counts from month 0 (0 throughout burn-in); ``first`` marks the
    run's first cycle, which fixes the agencies' starting budgets. Updates
    ``c`` (budget, budget_change, convening, grant_pool) and ``ag`` (budget,
    and on the first cycle budget0 and own_income) in place.
    """
    ones = np.ones_like(c["budget0"])
    budget = rules.council_budget(
        c["budget0"],
        P["austerity_rate"],
        year,
        c["shock_factor"],
        path_factor(P["budget_path"], year, ones),
    )
    change = budget / np.where(c["budget"] > 0, c["budget"], 1.0) - 1.0
    c["budget_change"] = np.where((c["budget"] > 0) & (not first), change, 0.0)
    c["budget"] = budget
    grown = (1.0 + P["demand_growth"]) ** year
    convening, grants, protected, rest = rules.budget_split(
        budget,
        c["service0"],
        P["convening_funds"],
        P["network_grants"],
        rules.lever_costs(P["outreach"], P["voice_weight"], P["needs_targeting"]),
        P["protected_share"],
        path_factor(P["protected_path"], year, grown),
    )
    c["convening"] = convening
    c["grant_pool"] = grants / rules.MONTHS_PER_YEAR
    c["care"], c["services"] = protected, rest
    shares = rules.commissioning_shares(
        ag["historic"],
        ag["remit"],
        c["weights"],
        need_k,
        ag["openness"],
        col(P["commissioning_outcomes"], 2),
        col(P["social_value_weight"], 2),
    )
    commission = col(protected, 2) * ag["protected_eligible"] + col(rest, 2) * shares
    if first:
        ag["own_income"] = col(P["agency_own_income"], 2) * commission
        ag["budget0"] = commission + ag["own_income"]
    ag["budget"] = commission + ag["own_income"]


def service_share(P: Params) -> np.ndarray:
    """Share of the council budget left for services at the start (B,): ``service0 / budget0``."""
    costs = rules.lever_costs(P["outreach"], P["voice_weight"], P["needs_targeting"])
    return 1.0 - P["convening_funds"] - P["network_grants"] - costs


def cut_budget(c: dict[str, np.ndarray], agency_budget: np.ndarray, share: np.ndarray) -> np.ndarray:
    """A budget shock or an immediate cut of ``share`` (B,): council and agencies alike, persisting.

    Updates the council state ``c`` in place (the cut also counts as a budget
    change, so trust feels it) and returns the agencies' new budgets (B, A).
    """
    c["shock_factor"] = c["shock_factor"] * (1.0 - share)
    c["budget"] = c["budget"] * (1.0 - share)
    c["care"] = c["care"] * (1.0 - share)
    c["services"] = c["services"] * (1.0 - share)
    c["budget_change"] = c["budget_change"] - share
    return agency_budget * col(1.0 - share, 2)


def revise_agenda(
    P: Params, c: dict[str, np.ndarray], need_k: np.ndarray, voice_k: np.ndarray, allied_k: np.ndarray
) -> None:
    """The council's yearly revision of its priority weights (strand 1)."""
    c["weights"] = rules.agenda_weights(
        c["weights"],
        c["own"],
        need_k,
        voice_k,
        allied_k,
        col(P["voice_weight"], 2),
        col(P["need_weight"], 2),
        rules.AGENDA_INERTIA,
        rules.ALLIANCE_VOICE,
    )


def need_by_domain(outcomes: np.ndarray, pop_share: np.ndarray) -> np.ndarray:
    """Measured need: population-weighted mean gap per domain, as a distribution (B, K)."""
    gap = np.einsum("bmgk,bmg->bk", 1.0 - outcomes, pop_share)
    return rules.normalise(gap, np.full_like(gap, 1.0 / gap.shape[-1]))


def voice_cells(
    profiles: np.ndarray, outcomes: np.ndarray, focus: np.ndarray, voice_type: np.ndarray
) -> np.ndarray:
    """What the engaged of each cell push for (B, M, G, K).

    ``voice_type`` (B, M, G, K) counts engaged citizens by the domain they
    champion, network members twice (their network speaks for them too);
    each pushes for their own priorities (:func:`civsim.rules.priorities`
    with their own values). Whoever does not participate is not heard.
    """
    prio = rules.priorities(profiles[:, None, :, :, :], outcomes[:, :, :, None, :], col(focus, 5))
    return np.einsum("bmgt,bmgtk->bmgk", voice_type, prio)


def voice_by_domain(voice_cell: np.ndarray) -> np.ndarray:
    """Citizen voice over domains (B, K): the sum of :func:`voice_cells`."""
    return voice_cell.sum(axis=(1, 2))


def allied_by_domain(
    ally: np.ndarray,
    alive: np.ndarray,
    focus: np.ndarray,
    members: np.ndarray,
    n_citizens: int,
    K: int,
) -> np.ndarray:
    """Agenda pull of organised voice past ``rules.INFLUENCE_THRESHOLD`` (B, K).

    Networks that are allied, directly or through others (networks and
    agencies), speak as one: a connected component of the alliance graph,
    whose influence is the share of citizens in its networks. A lone network
    is a component of its own and is heard by the same rule; it rarely
    represents enough citizens to pass the threshold ('scaling up' needs allies).
    """
    B, S = alive.shape
    out = np.zeros((B, K))
    labels, n_comps = kernels.components(ally)
    for b in range(B):
        n_comp, net_label = n_comps[b], labels[b, :S]
        live = alive[b]
        infl = np.bincount(net_label[live], weights=members[b][live], minlength=n_comp) / n_citizens
        strong = (infl >= rules.INFLUENCE_THRESHOLD) & (infl > 0)
        for comp in np.flatnonzero(strong):
            sel = live & (net_label == comp)
            dist = np.bincount(focus[b][sel], weights=members[b][sel], minlength=K)
            out[b] += infl[comp] * dist / dist.sum()
    return out


def alliance_summary(ally: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Number of alliances (components of two or more actors) and the largest one's size, per run."""
    B, n, _ = ally.shape
    label, _ = kernels.components(ally)
    size = np.bincount((label + n * np.arange(B)[:, None]).ravel(), minlength=B * n).reshape(B, n)
    allied = size >= 2
    return allied.sum(axis=1).astype(float), np.where(allied, size, 0).max(axis=1).astype(float)
