"""Locality-level processes over a leading batch axis, shared by both engines.

The Mesa engine calls these with a batch of one (arrays gathered from its
agents); the batch core calls them with B runs. Each function composes rules
from :mod:`civsim.rules`; none draws random numbers.

Shapes: B runs, M neighbourhoods, G groups, K domains, S network slots,
A agencies. ``P`` maps every parameter name to a (B,) array (see
:func:`stack_params`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from civsim import kernels, rules
from civsim.params import SCHEMA
from civsim.world import SHOCK_KINDS

Params = dict[str, np.ndarray]


def stack_params(points: list[dict[str, Any]]) -> Params:
    """Turn B resolved parameter dicts into one (B,) array per numeric parameter."""
    out: Params = {}
    for name, p in SCHEMA.items():
        if p.type in ("float", "int", "bool"):
            out[name] = np.array([pt[name] for pt in points], dtype=float)
        elif p.type == "choice":
            out[name] = np.array([p.choices.index(pt[name]) for pt in points])
        elif p.type == "series":
            out[name] = _pad_series([pt[name] for pt in points])
    return out


def _pad_series(series: list[tuple[float, ...]]) -> np.ndarray:
    """(B, Y) yearly paths, each padded with its last value; NaN rows for empty paths."""
    width = max(1, *(len(s) for s in series))
    out = np.full((len(series), width), np.nan)
    for b, s in enumerate(series):
        if s:
            out[b, : len(s)] = s
            out[b, len(s) :] = s[-1]
    return out


def path_factor(path: np.ndarray, year: int, default: np.ndarray) -> np.ndarray:
    """A yearly path's value in ``year`` (the last value holds), or ``default`` where it is empty."""
    value = path[:, min(year, path.shape[1] - 1)]
    return np.where(np.isnan(value), default, value)


def col(x: np.ndarray, ndim: int) -> np.ndarray:
    """Reshape a (B,) array to broadcast against arrays of ``ndim`` dims."""
    return x.reshape(x.shape[0], *([1] * (ndim - 1)))


# --------------------------------------------------------------------------
# Council


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


# --------------------------------------------------------------------------
# Shocks


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
    ally = np.einsum("bmn,bn->bm", link, lent) * active
    mu = col(P["mutual_aid"], 3)
    rate = rules.aid_rate(mu, own, ally[:, :, None], active[:, :, None])
    return rate, rules.aid_strain(col(P["mutual_aid"], 2), active, asked)


# --------------------------------------------------------------------------
# Sums over citizens


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


# --------------------------------------------------------------------------
# Choices of a workshop room's seats (pledges and focus), the same in both engines


def pledge_rows(n: int, rows: list[int] | np.ndarray, targets: Any) -> np.ndarray:
    """Pledge rows (len(rows), n): each row names ``targets``, never itself.

    A pledge is one-sided (row a names b); the engines treat a pair as pledged
    when either side named the other, so dropping a name withdraws only one's own pledge.
    """
    out = np.zeros((len(rows), n), dtype=bool)
    out[:, list(targets)] = True
    out[np.arange(len(rows)), list(rows)] = False
    return out


def hood_slots(net_hood: np.ndarray, hoods: Any) -> np.ndarray:
    """The network slots of neighbourhoods ``hoods``, in slot order."""
    return np.flatnonzero(np.isin(net_hood, list(hoods)))


def ally_targets(net_hood: np.ndarray, S: int, agencies: Any, hoods: Any) -> list[int]:
    """Rows of the alliance graph (slots, then S + agency) of the named networks' neighbourhoods and agencies."""
    return [int(s) for s in hood_slots(net_hood, hoods)] + [S + int(a) for a in agencies]
