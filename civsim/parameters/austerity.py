"""Austerity and demand: the council's budget, its path and the rise in need.

Part of :data:`civsim.params.SCHEMA`, in display order.
"""

from __future__ import annotations

from civsim.parameters.param import Param, define

AUSTERITY: list[Param] = [
    # Austerity and demand
    define(
        "council_budget",
        "float",
        1.0,
        0.0,
        10.0,
        "per capita/yr",
        "austerity",
        "Council's starting budget per citizen per year (1 = the reference level).",
    ),
    define(
        "austerity_rate",
        "float",
        0.0,
        -0.5,
        0.5,
        "1/yr",
        "austerity",
        "Constant real change in the council budget each year, on top of budget_path (NAO 2018: -0.047).",
    ),
    define(
        "budget_path",
        "series",
        (),
        0.0,
        10.0,
        "x start",
        "austerity",
        "Council budget by year as multiples of its start (year 0 first, last value holds); empty = flat.",
    ),
    define(
        "protected_path",
        "series",
        (),
        0.0,
        10.0,
        "x start",
        "austerity",
        "Ring-fenced care budget by year as multiples of its start; empty = grows with demand_growth.",
    ),
    define(
        "demand_growth",
        "float",
        0.0,
        0.0,
        0.3,
        "1/yr",
        "austerity",
        "Yearly rise in need: the shortfall of the structural baseline grows by this share a year.",
    ),
    define(
        "protected_share",
        "float",
        0.35,
        0.0,
        0.9,
        "share",
        "austerity",
        "Share of the starting service budget ring-fenced for statutory care (health), "
        "kept while cuts fall on the rest.",
    ),
    define(
        "agency_own_income",
        "float",
        0.15,
        0.0,
        2.0,
        "share",
        "austerity",
        "Agencies' income from outside the council, as a share of their starting commission.",
    ),
]
