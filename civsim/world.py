"""Building a run's initial world from its parameters and generator.

Both engines start from :func:`build_world`: the Mesa engine turns the arrays
into agents, the batch core stacks one world per run. The random draws here
come in a fixed, documented order (see docs/ODD.md, "Initialisation").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import ndtr

from civsim import inputs, rules

SECTORS: tuple[str, ...] = ("public", "ngo", "voluntary", "business")
SECTOR_PATTERN: tuple[int, ...] = (0, 0, 1, 2, 0, 3)
"""Sector of agency a is ``SECTOR_PATTERN[a % 6]``: half public bodies."""
SECTOR_OPENNESS: tuple[float, ...] = (0.0, 0.15, 0.25, -0.1)
SECTOR_HISTORIC_WEIGHT: tuple[float, ...] = (3.0, 1.0, 0.5, 1.0)
INITIAL_JOIN_SHARE = 0.3
"""Share of engaged citizens who start in their neighbourhood's first network."""
PROTECTED_DOMAIN = "health"
"""Domain of statutory care, whose budget is ring-fenced under austerity."""

_DEFAULT_CROSS_IMPACT: dict[str, dict[str, float]] = {
    "jobs": {"learning": 0.4, "transport": 0.3, "health": 0.2, "housing": 0.1, "connection": 0.2},
    "housing": {"jobs": 0.4, "safety": 0.1, "environment": 0.1},
    "health": {"jobs": 0.3, "housing": 0.4, "environment": 0.3, "connection": 0.3, "safety": 0.1},
    "learning": {"jobs": 0.1, "housing": 0.2, "health": 0.3, "connection": 0.2},
    "environment": {"transport": 0.3, "jobs": -0.1},
    "safety": {"jobs": 0.3, "connection": 0.4, "housing": 0.2, "learning": 0.1},
    "connection": {"safety": 0.2, "transport": 0.2, "health": 0.1, "environment": 0.1},
    "transport": {"jobs": 0.1, "environment": 0.1},
}
"""C[k][j]: how much progress in domain j helps domain k (before scaling)."""
_UNKNOWN_CROSS_IMPACT = 0.1

SHOCK_MASKS: dict[str, dict[str, float]] = {
    "economic": {"jobs": 1.0, "housing": 0.6, "health": 0.4, "learning": 0.2, "connection": 0.3},
    "environmental": {"environment": 1.0, "housing": 0.6, "health": 0.5, "transport": 0.6, "safety": 0.3},
    "budget": {},
}
SHOCK_KINDS: tuple[str, ...] = ("economic", "environmental", "budget")
_UNKNOWN_SHOCK = 0.3
_GROUP_VALUES: tuple[dict[str, float], ...] = (
    {
        "jobs": 1.0,
        "housing": 0.9,
        "health": 1.0,
        "learning": 1.1,
        "environment": 1.3,
        "safety": 0.9,
        "connection": 0.9,
        "transport": 1.2,
    },
    {
        "jobs": 1.5,
        "housing": 1.5,
        "health": 1.2,
        "learning": 0.9,
        "environment": 0.6,
        "safety": 1.2,
        "connection": 1.1,
        "transport": 0.8,
    },
)
"""What each group values, before normalising: the majority (row 0) and the
marginalised groups (row 1). A documented assumption, not data: marginalised
residents put work, housing and safety first; the better-off put environment,
transport and learning higher (cf. the seed's Lambeth commission). Other
domain names get 1."""
_DISADVANTAGE = {"jobs": 1.5, "housing": 1.5, "health": 1.3, "learning": 1.2}
_DISADVANTAGE_OTHER = 0.7


def cross_impact_matrix(domains: tuple[str, ...]) -> np.ndarray:
    """The default K x K cross-impact matrix for these domain names.

    Known domains use the table in docs/ODD.md; pairs involving other names
    get a weak uniform link. Rows are scaled so the largest row sum of |C| is
    1, so the ``interdependence`` parameter alone sets its strength.
    """
    k = len(domains)
    c = np.zeros((k, k))
    for i, di in enumerate(domains):
        for j, dj in enumerate(domains):
            if i == j:
                continue
            if di in _DEFAULT_CROSS_IMPACT and dj in _DEFAULT_CROSS_IMPACT:
                c[i, j] = _DEFAULT_CROSS_IMPACT[di].get(dj, 0.0)
            else:
                c[i, j] = _UNKNOWN_CROSS_IMPACT
    biggest = np.abs(c).sum(axis=1).max()
    return c / biggest if biggest > 0 else c


def shock_masks(domains: tuple[str, ...]) -> np.ndarray:
    """(3, K) share of each domain a shock of each kind hits."""
    return np.array(
        [
            [
                0.0
                if kind == "budget"
                else SHOCK_MASKS[kind].get(d, 0.0 if d in _DEFAULT_CROSS_IMPACT else _UNKNOWN_SHOCK)
                for d in domains
            ]
            for kind in SHOCK_KINDS
        ]
    )


def disadvantage_mask(domains: tuple[str, ...]) -> np.ndarray:
    """(K,) how strongly marginalised groups' disadvantage shows in each domain."""
    known = any(d in _DISADVANTAGE or d in _DEFAULT_CROSS_IMPACT for d in domains)
    return np.array([_DISADVANTAGE.get(d, _DISADVANTAGE_OTHER) if known else 1.0 for d in domains])


def group_values(domains: tuple[str, ...], G: int) -> np.ndarray:
    """(G, K) each group's valued-outcome profile, a distribution over domains."""
    rows = [_GROUP_VALUES[min(g, 1)] for g in range(G)]
    raw = np.array([[row.get(d, 1.0) for d in domains] for row in rows])
    return raw / raw.sum(axis=1, keepdims=True)


def dims_of(params: dict[str, Any]) -> rules.Dims:
    """Sizes of the world these parameters describe."""
    m = params["n_neighbourhoods"]
    return rules.Dims(
        N=params["n_citizens"],
        M=m,
        G=1 + params["n_marginalised_groups"],
        K=len(params["domains"]),
        S=m * params["networks_per_neighbourhood"],
        A=params["n_agencies"],
    )


@dataclass
class World:
    """One run's initial state as arrays (see docs/ODD.md for each variable)."""

    dims: rules.Dims
    domains: tuple[str, ...]
    cross_impact: np.ndarray  # (K, K) structure; `interdependence` scales it
    shock_masks: np.ndarray  # (3, K)
    hood: np.ndarray  # (N,) int
    group: np.ndarray  # (N,) int, 0 = majority
    capacity: np.ndarray  # (N,)
    threshold: np.ndarray  # (N,)
    trust: np.ndarray  # (N,)
    engaged: np.ndarray  # (N,) bool
    member: np.ndarray  # (N,) int, network slot or -1
    vtype: np.ndarray  # (N,) int, the domain each citizen champions
    ties: sp.csr_matrix  # (N, N) symmetric, 0/1
    outcomes: np.ndarray  # (M, G, K)
    base: np.ndarray  # (M, G) structural baseline level
    pop: np.ndarray  # (M, G) citizens per cell
    value_profiles: np.ndarray  # (G, K, K) values of a citizen of group g championing domain t
    values: np.ndarray  # (M, G, K) mean valued-outcome weights of each cell's residents
    net_hood: np.ndarray  # (S,)
    net_alive: np.ndarray  # (S,) bool
    net_focus: np.ndarray  # (S,) int
    net_age: np.ndarray  # (S,) int
    sector: np.ndarray  # (A,) int
    remit: np.ndarray  # (A, K) 0/1
    efficiency: np.ndarray  # (A,)
    openness: np.ndarray  # (A,)
    historic: np.ndarray  # (A,) shares summing to 1
    protected_eligible: np.ndarray  # (A,) shares of protected budget summing to 1
    own_view: np.ndarray  # (K,) the council's own priorities (rules.departmental_view)


def social_ties(
    rng: np.random.Generator, hood: np.ndarray, mean_degree: float, bridge_share: float, clustering: float
) -> sp.csr_matrix:
    """A clustered social network: mostly within neighbourhoods, some bridges.

    ``round(N z / 2)`` ties are drawn. Each picks a random citizen i; with
    probability ``bridge_share`` its partner is anyone; otherwise, with
    probability ``clustering``, a near neighbour on the neighbourhood's ring
    (which closes triangles), else anyone in the neighbourhood. Self-ties and
    repeats are dropped. With one neighbourhood, no bridges and no clustering
    this is an Erdos-Renyi graph with Poisson(z) degrees (Watts 2002).
    """
    n = hood.shape[0]
    n_edges = int(round(n * mean_degree / 2))
    ends = rng.integers(0, n, size=n_edges)
    kind = rng.random(n_edges)
    pos = rng.random(n_edges)
    sizes = np.bincount(hood, minlength=int(hood.max()) + 1)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    window = max(1, int(round(mean_degree / 2)))
    itype = np.int32 if n < np.iinfo(np.int32).max else np.int64
    partner = np.empty(n_edges, dtype=itype)
    chunk = max(512, -(-n_edges // 64))  # in chunks, so that temporaries stay small
    for lo in range(0, n_edges, chunk):
        part = slice(lo, lo + chunk)
        partner[part] = _partners(
            ends[part], kind[part], pos[part], hood, starts, sizes, window, bridge_share, clustering
        )
    del kind, pos
    keep = partner != ends
    i, j = ends[keep].astype(itype), partner[keep]
    del ends, partner, keep
    half = sp.coo_matrix((np.ones(i.size, dtype=np.float32), (i, j)), shape=(n, n))
    del i, j
    half = half.tocsr()
    adj = half + half.T
    del half
    adj.data[:] = 1.0
    adj.sort_indices()
    return adj


def _partners(ends, kind, pos, hood, starts, sizes, window, bridge_share, clustering):
    """Partner of each tie end (see :func:`social_ties`), elementwise."""
    h = hood[ends]
    start, size = starts[h], sizes[h]
    offset = 1 + np.floor(pos * 2 * window).astype(np.int64)
    offset = np.where(offset > window, window - offset, offset)  # +-1..window
    near = start + (ends - start + offset) % np.maximum(size, 1)
    local = start + np.floor(pos * size).astype(np.int64)
    anyone = np.floor(pos * hood.shape[0]).astype(np.int64)
    is_bridge = kind < bridge_share
    is_near = ~is_bridge & (kind < bridge_share + (1 - bridge_share) * clustering)
    return np.where(is_bridge, anyone, np.where(is_near, near, local))


def initial_thresholds(params: dict[str, Any], z: np.ndarray) -> np.ndarray:
    r"""Citizens' engagement thresholds from one standard normal draw ``z`` (N,).

    With mean :math:`\mu` = ``threshold_mean`` and spread :math:`\sigma` =
    ``threshold_sd``, by ``threshold_distribution``:

    - ``normal``: :math:`\theta = \mathrm{clip}(\mu + \sigma z, 0, 1)`;
    - ``uniform``: :math:`\theta = \mathrm{clip}(\mu + \sigma\sqrt 3\,(2\Phi(z) - 1), 0, 1)`,
      uniform on :math:`[\mu - \sqrt 3\sigma, \mu + \sqrt 3\sigma]`, which has mean
      :math:`\mu` and standard deviation :math:`\sigma` (before clipping);
      :math:`\Phi(z)` is uniform on (0, 1) (probability integral transform);
    - ``file``: one value per citizen from ``threshold_file`` (``z`` unused).

    The normal draw is made in every case, so every later draw of the world
    (trust, engagement, ties, ...) is the same whichever distribution is chosen.
    """
    kind = params["threshold_distribution"]
    if kind == "file":
        return inputs.read_thresholds(params["threshold_file"], z.shape[0])
    mean, sd = params["threshold_mean"], params["threshold_sd"]
    if kind == "uniform":
        return np.clip(mean + sd * np.sqrt(3.0) * (2.0 * ndtr(z) - 1.0), 0.0, 1.0)
    return np.clip(mean + sd * z, 0.0, 1.0)


def social_network(params: dict[str, Any], rng: np.random.Generator, hood: np.ndarray) -> sp.csr_matrix:
    """The social ties chosen by ``network``.

    ``random``: :func:`social_ties` (the 3 x ties draws of build_world's
    draw order); ``complete`` (:func:`complete_ties`) and ``file``
    (``edge_file``, :func:`edge_list_ties`) make no draws.
    """
    n = hood.shape[0]
    kind = params["network"]
    if kind == "complete":
        return complete_ties(n)
    if kind == "file":
        return edge_list_ties(n, *inputs.read_edges(params["edge_file"], n))
    return social_ties(rng, hood, params["mean_degree"], params["bridge_share"], params["tie_clustering"])


def complete_ties(n: int) -> sp.csr_matrix:
    """Everyone tied to everyone else: (n, n) symmetric 0/1, degree n - 1, no self-ties."""
    itype = np.int32 if n * n < np.iinfo(np.int32).max else np.int64
    others = np.arange(n, dtype=itype)[None, :].repeat(n, axis=0)
    indices = others[~np.eye(n, dtype=bool)]
    indptr = (np.arange(n + 1) * (n - 1)).astype(itype)
    return sp.csr_matrix((np.ones(indices.size, dtype=np.float32), indices, indptr), shape=(n, n))


def edge_list_ties(n: int, i: np.ndarray, j: np.ndarray) -> sp.csr_matrix:
    """(n, n) symmetric 0/1 ties from an undirected edge list (self-ties dropped, repeats once)."""
    keep = i != j
    i, j = i[keep], j[keep]
    itype = np.int32 if n < np.iinfo(np.int32).max else np.int64
    rows = np.concatenate([i, j]).astype(itype)
    cols = np.concatenate([j, i]).astype(itype)
    adj = sp.coo_matrix((np.ones(rows.size, dtype=np.float32), (rows, cols)), shape=(n, n)).tocsr()
    adj.data[:] = 1.0
    adj.sort_indices()
    return adj


def build_world(params: dict[str, Any], rng: np.random.Generator) -> World:
    """Draw one run's initial world.

    Draw order: groups (N), capacity (N), thresholds (N), trust (N), initial
    engagement (N), seed citizens, social ties (3 x ties), outcome noise
    (M G K), agencies (4 x A), initial network membership (N), championed
    domain (N).
    """
    d = dims_of(params)
    N, M, G, K, S, A = d.N, d.M, d.G, d.K, d.S, d.A
    domains = tuple(params["domains"])
    hood = (np.arange(N) * M) // N
    u_group = rng.random(N)
    ms = params["marginalised_share"]
    n_marg = G - 1
    group = np.where(
        u_group < ms, 1 + np.minimum(np.floor(u_group / max(ms, 1e-300) * n_marg), n_marg - 1), 0
    ).astype(np.int64)
    marg = group > 0
    cap_mean = params["capacity_mean"] * (1.0 - params["marginalised_capacity_penalty"] * marg)
    capacity = np.clip(cap_mean + params["capacity_sd"] * rng.standard_normal(N), 0.05, 1.0)
    threshold = initial_thresholds(params, rng.standard_normal(N))
    trust = np.clip(params["trust_initial"] + 0.1 * rng.standard_normal(N), 0.0, 1.0)
    del u_group, cap_mean
    barrier = params["participation_barrier"] * (1.0 - params["outreach"])
    engaged = rng.random(N) < params["initial_engagement"] * (1.0 - barrier * marg)
    n_seed = min(params["seed_engaged"], N)
    if n_seed:
        engaged[rng.choice(N, size=n_seed, replace=False)] = True
    ties = social_network(params, rng, hood)

    pop = np.bincount(hood * G + group, minlength=M * G).reshape(M, G).astype(float)
    gradient = params["neighbourhood_spread"] * ((np.arange(M) + 0.5) / M - 0.5) * 2
    disadvantage = params["marginalised_disadvantage"] * (np.arange(G) > 0)
    base = params["baseline_level"] + gradient[:, None] * 0.5 - disadvantage[None, :]
    outcomes = (
        params["initial_outcome"]
        + gradient[:, None, None]
        - disadvantage[None, :, None] * disadvantage_mask(domains)[None, None, :]
        + 0.02 * rng.standard_normal((M, G, K))
    )
    outcomes = np.clip(outcomes, 0.0, 1.0)
    base = np.clip(base, 0.0, 1.0)

    a = np.arange(A)
    sector = np.array([SECTOR_PATTERN[i % len(SECTOR_PATTERN)] for i in a], dtype=np.int64)
    u_second, u_dom, u_eff, u_open = (rng.random(A) for _ in range(4))
    remit = np.zeros((A, K))
    remit[a, a % K] = 1.0
    if K > 1:
        second = (a % K + 1 + np.floor(u_dom * (K - 1)).astype(np.int64)) % K
        remit[a[u_second < 0.5], second[u_second < 0.5]] = 1.0
    efficiency = 0.7 + 0.3 * u_eff
    openness = np.clip(
        params["coproduction_openness"] + np.take(SECTOR_OPENNESS, sector) + 0.2 * (u_open - 0.5), 0.0, 1.0
    )
    historic = np.take(SECTOR_HISTORIC_WEIGHT, sector) * remit.sum(axis=1)
    historic = historic / historic.sum()
    care = remit[:, domains.index(PROTECTED_DOMAIN)] if PROTECTED_DOMAIN in domains else np.ones(A)
    eligible = historic * care
    protected_eligible = eligible / eligible.sum() if eligible.sum() > 0 else historic

    net_hood = np.repeat(np.arange(M), params["networks_per_neighbourhood"])
    net_alive = np.zeros(S, dtype=bool)
    net_focus = np.zeros(S, dtype=np.int64)
    net_age = np.zeros(S, dtype=np.int64)
    member = np.full(N, -1, dtype=np.int64)
    u_member = rng.random(N)
    if S and params["networks_enabled"]:
        hood_gap = np.einsum("mgk,mg->mk", 1.0 - outcomes, pop)
        first = np.arange(M) * params["networks_per_neighbourhood"]
        net_alive[first] = True
        net_focus[first] = np.argmax(hood_gap, axis=1)
        net_age[first] = rules.NETWORK_GRACE_MONTHS
        joins = engaged & (u_member < INITIAL_JOIN_SHARE)
        member[joins] = first[hood[joins]]

    profile = group_values(domains, G)
    u_value = rng.random(N)
    cum = np.cumsum(profile, axis=1)
    vtype = np.minimum((u_value[:, None] >= cum[group]).sum(axis=1), K - 1).astype(np.int64)
    profiles = rules.value_profiles(profile, params["value_diversity"])
    counts = np.bincount((hood * G + group) * K + vtype, minlength=M * G * K).reshape(M, G, K)
    values = np.einsum("mgt,gtk->mgk", counts, profiles) / np.maximum(pop, 1.0)[..., None]
    values = np.where(pop[..., None] > 0, values, profile[None, :, :])

    return World(
        dims=d,
        domains=domains,
        cross_impact=cross_impact_matrix(domains),
        shock_masks=shock_masks(domains),
        hood=hood,
        group=group,
        capacity=capacity,
        threshold=threshold,
        trust=trust,
        engaged=engaged,
        member=member,
        vtype=vtype,
        ties=ties,
        outcomes=outcomes,
        base=base,
        pop=pop,
        value_profiles=profiles,
        values=values,
        net_hood=net_hood,
        net_alive=net_alive,
        net_focus=net_focus,
        net_age=net_age,
        sector=sector,
        remit=remit,
        efficiency=efficiency,
        openness=openness,
        historic=historic,
        protected_eligible=protected_eligible,
        own_view=rules.departmental_view(
            historic,
            remit / remit.sum(axis=1, keepdims=True),
            np.asarray(params["protected_share"], dtype=float),
            np.array([float(d == PROTECTED_DOMAIN) for d in domains]),
        ),
    )
