"""Strand 1, defining valued outcomes: citizens' priorities, voice and commissioning.

Part of :data:`civsim.params.SCHEMA`, in display order.
"""

from __future__ import annotations

from civsim.parameters.param import Param, define

VALUED_OUTCOMES: list[Param] = [
    # 1 Defining valued outcomes
    define(
        "priority_focus",
        "int",
        1,
        1,
        4,
        "exponent",
        "outcomes",
        "How strongly citizens put their largest gaps first (1 = in proportion to the gap).",
    ),
    define(
        "value_diversity",
        "float",
        0.5,
        0.0,
        1.0,
        "share",
        "outcomes",
        "How far citizens' own valued outcomes differ from their group's (each champions one domain).",
    ),
    define(
        "voice_weight",
        "float",
        0.3,
        0.0,
        1.0,
        "share",
        "outcomes",
        "Weight of citizen voice when the council revises its priorities each year "
        "(participatory democracy).",
    ),
    define(
        "need_weight",
        "float",
        0.3,
        0.0,
        1.0,
        "share",
        "outcomes",
        "Weight of measured need when the council revises its priorities.",
    ),
    define(
        "commissioning_outcomes",
        "float",
        0.5,
        0.0,
        1.0,
        "share",
        "outcomes",
        "0 = historic departmental shares, 1 = outcomes-based commissioning by weighted need.",
    ),
    define(
        "social_value_weight",
        "float",
        0.0,
        0.0,
        1.0,
        "share",
        "outcomes",
        "Weight of social value (openness to co-production) in outcomes-based commissioning.",
    ),
]
