"""Strand 2, engaging whole systems: coordination ties between agencies.

Part of :data:`civsim.params.SCHEMA`, in display order.
"""

from __future__ import annotations

from civsim.parameters.param import Param, define

WHOLE_SYSTEMS: list[Param] = [
    # 2 Engaging whole systems
    define(
        "coordination_enabled",
        "bool",
        True,
        unit="switch",
        strand="whole_systems",
        help_="Allow agencies to form coordination ties.",
    ),
    define(
        "coordination_benefit",
        "float",
        0.5,
        0.0,
        3.0,
        "x",
        "whole_systems",
        "How much joined-up delivery spills into partner domains through C (0 = none).",
    ),
    define(
        "coordination_cost",
        "float",
        0.04,
        0.0,
        0.5,
        "share/partner",
        "whole_systems",
        "Staff time each coordination partnership takes, as a share of the agency's starting budget.",
    ),
    define(
        "coordination_decay",
        "float",
        0.01,
        0.0,
        1.0,
        "1/month",
        "whole_systems",
        "Monthly chance a coordination tie lapses for reasons other than money.",
    ),
    define(
        "core_commitment",
        "float",
        0.8,
        0.0,
        1.0,
        "share",
        "whole_systems",
        "Share of its starting budget an agency spends on core delivery before paying for partnerships.",
    ),
    define(
        "convening_funds",
        "float",
        0.0,
        0.0,
        0.2,
        "share",
        "whole_systems",
        "Council budget share spent convening: pays part of partnership costs; 5% triples tie-forming.",
    ),
]
