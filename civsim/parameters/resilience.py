"""Strand 4, strengthening resilience: scheduled and random shocks, mutual aid.

Part of :data:`civsim.params.SCHEMA`, in display order.
"""

from __future__ import annotations

from civsim.parameters.param import Param, define

RESILIENCE: list[Param] = [
    # 4 Strengthening resilience
    define(
        "shock_month", "int", -1, -1, 2400, "month", "resilience", "Month of a scheduled shock (-1 = none)."
    ),
    define(
        "shock_kind",
        "choice",
        "economic",
        unit="kind",
        strand="resilience",
        help_="What the scheduled shock hits.",
        choices=("economic", "environmental", "budget"),
    ),
    define(
        "shock_size",
        "float",
        0.2,
        0.0,
        1.0,
        "share",
        "resilience",
        "Share of outcome (or budget) lost in a shock.",
    ),
    define(
        "shock_scope",
        "float",
        1.0,
        0.0,
        1.0,
        "share",
        "resilience",
        "Chance each neighbourhood is hit by a shock.",
    ),
    define(
        "random_shock_rate",
        "float",
        0.0,
        0.0,
        2.0,
        "1/yr",
        "resilience",
        "Yearly rate of random economic shocks.",
    ),
    define(
        "mutual_aid",
        "float",
        0.3,
        0.0,
        2.0,
        "1/month",
        "resilience",
        "Monthly share of a shock's loss that engaged neighbours and allied places restore, for a year.",
    ),
]
