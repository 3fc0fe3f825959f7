"""Strand 5, working inclusively: barriers, disadvantage, outreach and targeting.

Part of :data:`civsim.params.SCHEMA`, in display order.
"""

from __future__ import annotations

from civsim.parameters.param import Param, define

INCLUSION: list[Param] = [
    # 5 Working inclusively
    define(
        "participation_barrier",
        "float",
        0.1,
        0.0,
        1.0,
        "share",
        "inclusion",
        "Extra engagement threshold faced by marginalised citizens.",
    ),
    define(
        "marginalised_capacity_penalty",
        "float",
        0.2,
        0.0,
        1.0,
        "share",
        "inclusion",
        "Capacity marginalised citizens lack relative to the majority.",
    ),
    define(
        "marginalised_disadvantage",
        "float",
        0.12,
        0.0,
        0.5,
        "index",
        "inclusion",
        "Initial and structural outcome disadvantage of marginalised groups.",
    ),
    define(
        "outreach",
        "float",
        0.0,
        0.0,
        1.0,
        "share",
        "inclusion",
        "Inclusive outreach (up to 3% of budget): lowers the barrier by this share, reaches the excluded.",
    ),
    define(
        "needs_targeting",
        "float",
        0.5,
        0.0,
        1.0,
        "share",
        "inclusion",
        "Share of service delivery allocated by need rather than by head count.",
    ),
]
