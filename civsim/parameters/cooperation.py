"""Strand 6, finding cooperative solutions: citizen networks and alliances.

Part of :data:`civsim.params.SCHEMA`, in display order.
"""

from __future__ import annotations

from civsim.parameters.param import Param, define

COOPERATION: list[Param] = [
    # 6 Finding cooperative solutions
    define(
        "networks_enabled",
        "bool",
        True,
        unit="switch",
        strand="cooperation",
        help_="Allow citizen networks to form, recruit and act.",
    ),
    define(
        "join_rate",
        "float",
        0.05,
        0.0,
        1.0,
        "1/month",
        "cooperation",
        "Monthly chance an engaged citizen without a network joins a local one.",
    ),
    define(
        "network_min_members",
        "int",
        3,
        0,
        1000,
        "citizens",
        "cooperation",
        "A network older than six months with fewer members dissolves.",
    ),
    define(
        "network_dues",
        "float",
        0.02,
        0.0,
        1.0,
        "per member/month",
        "cooperation",
        "Resources each member's capacity adds to a network per month.",
    ),
    define(
        "network_grants",
        "float",
        0.0,
        0.0,
        0.2,
        "share",
        "cooperation",
        "Share of the council budget granted to citizen networks.",
    ),
    define(
        "alliances_enabled",
        "bool",
        True,
        unit="switch",
        strand="cooperation",
        help_="Allow networks and agencies to form alliances.",
    ),
    define(
        "alliance_propensity",
        "float",
        0.004,
        0.0,
        1.0,
        "1/month",
        "cooperation",
        "Monthly chance that two compatible actors (shared focus, trust) ally.",
    ),
    define(
        "alliance_decay",
        "float",
        0.03,
        0.0,
        1.0,
        "1/month",
        "cooperation",
        "Monthly chance an alliance tie lapses.",
    ),
    define(
        "alliance_synergy",
        "float",
        0.3,
        0.0,
        2.0,
        "x",
        "cooperation",
        "Extra effect of pooled resources per additional ally.",
    ),
]
