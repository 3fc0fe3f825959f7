"""What the model reports: per-step series and per-run summaries.

Both engines compute their series with :func:`step_metrics`, so the column
names below are one contract (documented in docs/outputs.md) for users'
scripts: ``step``, ``outcome_index``, ``inclusion_gap``, ``engagement``,
``trust``, ``budget``, ``alliances``, ``coordination_density`` and the rest.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from civsim import process

RECOVERY_SHARE = 0.9
"""A run has recovered from a shock once it has regained this share of the dip."""


def group_names(G: int) -> list[str]:
    """Names of the population groups: 'majority' then the marginalised group(s)."""
    if G == 2:
        return ["majority", "marginalised"]
    return ["majority"] + [f"marginalised_{i}" for i in range(1, G)]


def series_columns(domains: tuple[str, ...], G: int, M: int) -> list[str]:
    """Every per-step column, in order (after ``run``/``rep`` and ``step``)."""
    groups = group_names(G)
    return (
        ["outcome_index", "outcome_index_council", "outcome_index_council_fixed"]
        + [f"council_weight_{d}" for d in domains]
        + [f"outcome_{d}" for d in domains]
        + [f"outcome_index_{g}" for g in groups]
        + [f"outcome_hood_{m}" for m in range(M)]
        + ["inclusion_gap", "engagement"]
        + [f"engagement_{g}" for g in groups]
        + [
            "trust",
            "networks",
            "networks_capped",
            "network_members",
            "alliances",
            "largest_alliance",
            "coordination_density",
            "budget",
            "budget_care",
            "budget_services",
            "spend",
            "gain_per_spend",
            "shock",
        ]
    )


def step_metrics(
    *,
    outcomes: np.ndarray,
    pop: np.ndarray,
    values: np.ndarray,
    weights: np.ndarray,
    engaged_cell: np.ndarray,
    members: np.ndarray,
    trust: np.ndarray,
    alive: np.ndarray,
    slots_per_hood: int,
    ally: np.ndarray,
    coord: np.ndarray,
    budget: np.ndarray,
    care: np.ndarray,
    services: np.ndarray,
    spend: np.ndarray,
    index0: np.ndarray | None,
    shock: np.ndarray,
    domains: tuple[str, ...],
    focus: np.ndarray,
) -> dict[str, np.ndarray]:
    """All per-step metrics for B runs, each a (B,) array.

    Parameters are the engines' state at the end of a step, with a leading
    batch axis: outcomes (B, M, G, K); pop (B, M, G) citizens per cell; values
    (B, M, G, K) residents' mean valued-outcome weights; weights (B, K)
    council priorities; engaged_cell (B, M, G) engaged citizens per
    cell and members (B, S) per network slot (from
    :func:`civsim.process.citizen_aggregates`); trust (B, N); alive (B, S)
    and ``slots_per_hood`` (networks a neighbourhood can hold); ally
    (B, S+A, S+A); coord (B, A, A); budget, care (the ring-fenced care
    budget), services (the other services' budget), spend (cumulative council
    spend per citizen), shock (B,); index0 (B,) the index at step 0 (None at
    step 0 itself); focus (B,) the runs' ``priority_focus``.
    """
    B, M, G, K = outcomes.shape
    N = trust.shape[1]
    A = coord.shape[1]
    ctx = process.cell_context(outcomes, weights, focus, values)
    # Means are weighted sums divided by the sum of the weights (the population,
    # a whole number, summed exactly), so a mean of values in [0, 1] stays in [0, 1].
    total = pop.sum(axis=(1, 2))
    out: dict[str, np.ndarray] = {}
    out["outcome_index"] = np.einsum("bmg,bmg->b", ctx["index"], pop) / total
    by_domain = np.einsum("bmgk,bmg->bk", outcomes, pop) / total[:, None]
    out["outcome_index_council"] = np.einsum("bk,bk->b", weights, by_domain) / np.einsum(
        "bk,bk->b", weights, np.ones_like(by_domain)
    )
    out["outcome_index_council_fixed"] = by_domain.sum(axis=1) / K
    for k, d in enumerate(domains):
        out[f"council_weight_{d}"] = weights[:, k]
    for k, d in enumerate(domains):
        out[f"outcome_{d}"] = by_domain[:, k]
    gpop = pop.sum(axis=1)
    by_group = np.einsum("bmg,bmg->bg", ctx["index"], pop) / np.where(gpop > 0, gpop, 1.0)
    names = group_names(G)
    for g, name in enumerate(names):
        out[f"outcome_index_{name}"] = by_group[:, g]
    hpop = pop.sum(axis=2)
    by_hood = np.einsum("bmg,bmg->bm", ctx["index"], pop) / np.where(hpop > 0, hpop, 1.0)
    for m in range(M):
        out[f"outcome_hood_{m}"] = by_hood[:, m]
    marg_pop = gpop[:, 1:].sum(axis=1)
    marg = np.where(
        marg_pop > 0,
        (by_group[:, 1:] * gpop[:, 1:]).sum(axis=1) / np.where(marg_pop > 0, marg_pop, 1.0),
        by_group[:, 0],
    )
    out["inclusion_gap"] = by_group[:, 0] - marg
    eng = engaged_cell.sum(axis=1)
    out["engagement"] = eng.sum(axis=1) / N
    for g, name in enumerate(names):
        out[f"engagement_{name}"] = np.where(gpop[:, g] > 0, eng[:, g] / np.maximum(gpop[:, g], 1), 0.0)
    out["trust"] = trust.mean(axis=1)
    out["networks"] = alive.sum(axis=1).astype(float)
    if slots_per_hood > 0:
        full = alive.reshape(B, M, slots_per_hood).all(axis=2)
        out["networks_capped"] = full.mean(axis=1)
    else:
        out["networks_capped"] = np.zeros(B)
    out["network_members"] = members.sum(axis=1)
    count, largest = process.alliance_summary(ally)
    out["alliances"] = count
    out["largest_alliance"] = largest
    pairs = A * (A - 1) / 2
    out["coordination_density"] = coord.sum(axis=(1, 2)) / 2 / pairs if pairs else np.zeros(B)
    out["budget"] = np.asarray(budget, dtype=float)
    out["budget_care"] = np.asarray(care, dtype=float)
    out["budget_services"] = np.asarray(services, dtype=float)
    out["spend"] = np.asarray(spend, dtype=float)
    gain = out["outcome_index"] - (index0 if index0 is not None else out["outcome_index"])
    spent = spend > 1e-9
    out["gain_per_spend"] = np.where(spent, gain / np.where(spent, spend, 1.0), 0.0)
    out["shock"] = np.asarray(shock, dtype=float)
    return out


def resilience(index: np.ndarray, shock: np.ndarray) -> list[dict[str, Any]]:
    """Dip and recovery time after each shock in one run's series.

    Parameters
    ----------
    index : (T,) valued-outcome index per step (row 0 = start).
    shock : (T,) 1 where a shock happened during that step.

    Returns
    -------
    list of dict
        For each shock: ``step``, ``pre`` (index just before), ``dip``
        (pre minus the lowest index before the next shock or the end),
        ``recovery_months`` (steps until the index is back within
        ``RECOVERY_SHARE`` of the dip is regained, i.e. the index is back
        above ``pre - (1 - RECOVERY_SHARE) * dip``; None if it never is).
    """
    steps = np.flatnonzero(shock > 0)
    out = []
    for i, s in enumerate(steps):
        end = steps[i + 1] if i + 1 < len(steps) else len(index)
        pre = index[s - 1] if s > 0 else index[0]
        window = index[s:end]
        dip = float(pre - window.min()) if window.size else 0.0
        back = np.flatnonzero(window >= pre - (1.0 - RECOVERY_SHARE) * dip)
        out.append(
            {
                "step": int(s),
                "pre": float(pre),
                "dip": dip,
                "recovery_months": int(back[0]) if back.size else None,
            }
        )
    return out


SUMMARY_SERIES = (
    "outcome_index",
    "outcome_index_council",
    "outcome_index_council_fixed",
    "inclusion_gap",
    "engagement",
    "trust",
    "networks",
    "networks_capped",
    "alliances",
    "coordination_density",
    "budget",
    "gain_per_spend",
)


def summarise(frame: pd.DataFrame) -> dict[str, Any]:
    """Per-run summary of one run's series (rows ordered by step).

    ``final_<m>`` and ``mean_<m>`` for the main series, ``min_outcome_index``,
    the number of shocks and, for the first shock, ``shock_dip`` and
    ``shock_recovery_months`` (NaN when there is none or no recovery), plus
    ``shocks``: the full list from :func:`resilience`.
    """
    out: dict[str, Any] = {}
    for name in SUMMARY_SERIES:
        out[f"final_{name}"] = float(frame[name].iloc[-1])
        out[f"mean_{name}"] = float(frame[name].mean())
    out["min_outcome_index"] = float(frame["outcome_index"].min())
    shocks = resilience(frame["outcome_index"].to_numpy(), frame["shock"].to_numpy())
    out["n_shocks"] = len(shocks)
    first = shocks[0] if shocks else None
    out["shock_dip"] = first["dip"] if first else float("nan")
    rec = first["recovery_months"] if first else None
    out["shock_recovery_months"] = float(rec) if rec is not None else float("nan")
    out["shocks"] = shocks
    return out
