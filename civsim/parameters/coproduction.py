"""Strand 3, co-producing: agencies' openness, citizens' effort and trust.

Part of :data:`civsim.params.SCHEMA`, in display order.
"""

from __future__ import annotations

from civsim.parameters.param import Param, define

COPRODUCTION: list[Param] = [
    # 3 Co-producing
    define(
        "coproduction_openness",
        "float",
        0.3,
        0.0,
        1.0,
        "share",
        "coproduction",
        "Mean openness of agencies to co-production with citizens.",
    ),
    define(
        "coproduction_effort",
        "float",
        3.0,
        0.0,
        20.0,
        "input/citizen",
        "coproduction",
        "Co-production input of a fully engaged, trusting citizen, "
        "relative to the reference per-capita service input.",
    ),
    define(
        "trust_initial", "float", 0.5, 0.0, 1.0, "index", "coproduction", "Initial trust in institutions."
    ),
    define(
        "trust_rate",
        "float",
        0.05,
        0.0,
        1.0,
        "1/month",
        "coproduction",
        "Monthly speed at which trust moves toward how responsive institutions are.",
    ),
    define(
        "trust_cut_sensitivity",
        "float",
        2.0,
        0.0,
        10.0,
        "x",
        "coproduction",
        "How much budget cuts lower trust.",
    ),
    define(
        "trust_engagement_weight",
        "float",
        0.2,
        0.0,
        1.0,
        "x",
        "coproduction",
        "How much trust above 0.5 adds to a citizen's push to engage.",
    ),
]
