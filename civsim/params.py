"""The parameter schema: every model parameter, once.

This module is the single source of truth for parameter names, types,
defaults, ranges, units, the strand each belongs to and its help text.
Scenario files, CLI overrides, experiment factors and the app's sliders are
all generated from or validated against :data:`SCHEMA`.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Any

STRANDS: dict[str, str] = {
    "outcomes": "1 Defining valued outcomes",
    "whole_systems": "2 Engaging whole systems",
    "coproduction": "3 Co-producing",
    "resilience": "4 Strengthening resilience",
    "inclusion": "5 Working inclusively",
    "cooperation": "6 Finding cooperative solutions",
    "austerity": "Austerity and demand",
    "engagement": "Engagement contagion",
    "locality": "Locality and population",
}
"""Parameter groups: the six strands of the source texts plus three
structural groups."""

DEFAULT_DOMAINS: tuple[str, ...] = (
    "jobs",
    "housing",
    "health",
    "learning",
    "environment",
    "safety",
    "connection",
    "transport",
)
"""Default outcome domains (after the Aalborg Commitments and the seed's
'system of challenges')."""


class ParamError(ValueError):
    """A user-facing error about a parameter value (no traceback needed)."""


@dataclass(frozen=True)
class Param:
    """One model parameter.

    Attributes
    ----------
    name : str
        Key used in scenario files, ``--set`` overrides and experiments.
    type : str
        One of ``"float"``, ``"int"``, ``"bool"``, ``"choice"``, ``"list"`` (names),
        ``"series"`` (numbers, e.g. a yearly path) or ``"text"`` (a ``YYYY-MM`` date).
    default : Any
        Value used when nothing overrides it.
    min, max : float or None
        Inclusive range for numbers.
    unit : str
        Unit of the value, shown in tables and slider labels.
    strand : str
        Key of :data:`STRANDS` the parameter belongs to.
    help : str
        One line saying what the parameter does.
    choices : tuple of str
        Allowed values for ``"choice"`` parameters.
    structural : bool
        True when the value shapes the world (sizes, lists) rather than a
        behaviour; such parameters must be equal across runs in one batch.

    Notes
    -----
    Type ``"path"`` names a file (``""`` for none): scenario files resolve it
    relative to themselves, ``--set`` relative to the working directory (see
    :mod:`civsim.inputs`); the app shows no control for it.
    """

    name: str
    type: str
    default: Any
    min: float | None = None
    max: float | None = None
    unit: str = ""
    strand: str = "locality"
    help: str = ""
    choices: tuple[str, ...] = ()
    structural: bool = False

    def allowed(self) -> str:
        """Describe the allowed values in words, for error messages."""
        if self.type == "path":
            return "a file path (text; '' for none)"
        if self.type == "bool":
            return "true or false"
        if self.type == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.type == "list":
            return "a list of distinct names (at least 2)"
        if self.type == "series":
            return f"a list of at most {MAX_SERIES} numbers in [{_fmt(self.min)}, {_fmt(self.max)}]"
        if self.type == "text":
            return "a month as 'YYYY-MM'"
        kind = "an integer" if self.type == "int" else "a number"
        return f"{kind} in [{_fmt(self.min)}, {_fmt(self.max)}]"

    def coerce(self, value: Any) -> Any:
        """Check ``value`` against this parameter and return it normalised.

        Raises
        ------
        ParamError
            With a message naming the key, the value and what is allowed.
        """
        bad = ParamError(f"{self.name} = {value!r} is not allowed: expected {self.allowed()}")
        if self.type == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in (
                "true",
                "false",
                "1",
                "0",
                "yes",
                "no",
                "on",
                "off",
            ):
                return value.lower() in ("true", "1", "yes", "on")
            raise bad
        if self.type == "choice":
            if isinstance(value, str) and value in self.choices:
                return value
            raise bad
        if self.type == "path":
            if isinstance(value, str) and not any(ch in value for ch in "\0\n\r"):
                return value.strip()
            raise bad
        if self.type == "list":
            if (
                isinstance(value, (list, tuple))
                and len(value) >= 2
                and all(isinstance(v, str) and v for v in value)
                and len(set(value)) == len(value)
            ):
                return tuple(value)
            raise bad
        if self.type == "series":
            return self._coerce_series(value, bad)
        if self.type == "text":
            if isinstance(value, str) and _is_month(value):
                return value
            raise bad
        if isinstance(value, bool):
            raise bad
        if isinstance(value, str):
            try:
                value = float(value) if self.type == "float" else int(value, 10)
            except ValueError:
                raise bad from None
        if self.type == "int":
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if not isinstance(value, int):
                raise bad
        elif isinstance(value, (int, float)):
            value = float(value)
        else:
            raise bad
        if isinstance(value, float) and not math.isfinite(value):
            raise bad
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            raise bad
        return value

    def _coerce_series(self, value: Any, bad: ParamError) -> tuple[float, ...]:
        if isinstance(value, str):
            parts = [v.strip() for v in value.split(",") if v.strip()]
            try:
                value = [float(v) for v in parts]
            except ValueError:
                raise bad from None
        if not isinstance(value, (list, tuple)) or len(value) > MAX_SERIES:
            raise bad
        out = []
        for v in value:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise bad
            if (self.min is not None and v < self.min) or (self.max is not None and v > self.max):
                raise bad
            out.append(float(v))
        return tuple(out)


MAX_SERIES = 200
"""Longest allowed ``series`` parameter (e.g. 200 years of a budget path)."""


def _is_month(text: str) -> bool:
    """True for 'YYYY-MM' with a month 01-12."""
    if len(text) != 7 or text[4] != "-" or not (text[:4].isdigit() and text[5:].isdigit()):
        return False
    return 1 <= int(text[5:]) <= 12


def _fmt(x: float | None) -> str:
    if x is None:
        return "-inf"
    return f"{x:g}"


THRESHOLD_DISTRIBUTIONS: tuple[str, ...] = ("normal", "uniform", "file")
"""Where citizens' engagement thresholds come from (``threshold_distribution``)."""
NETWORKS: tuple[str, ...] = ("random", "complete", "file")
"""Where the social ties come from (``network``)."""
COMPLETE_MAX_CITIZENS = 2000
"""Largest population for ``network = 'complete'`` (N (N - 1) directed ties: 4 million at 2,000)."""


def _p(name, type_, default, lo=None, hi=None, unit="", strand="locality", help_="", **kw) -> Param:
    return Param(name, type_, default, lo, hi, unit, strand, help_, **kw)


_PARAMS: list[Param] = [
    # Locality and population
    _p(
        "n_citizens",
        "int",
        2000,
        10,
        2_000_000,
        "citizens",
        "locality",
        "Number of citizens.",
        structural=True,
    ),
    _p(
        "burn_in",
        "int",
        240,
        0,
        2400,
        "months",
        "locality",
        "Months run before month 0 with no policy change, shock or austerity, so runs start at rest.",
        structural=True,
    ),
    _p(
        "start_date",
        "text",
        "2010-04",
        unit="YYYY-MM",
        strand="locality",
        help_="Calendar month of month 0 (after burn-in), recorded with runs for dated targets and reports.",
    ),
    _p(
        "n_neighbourhoods",
        "int",
        6,
        1,
        100,
        "neighbourhoods",
        "locality",
        "Number of neighbourhoods (M).",
        structural=True,
    ),
    _p(
        "n_marginalised_groups",
        "int",
        1,
        1,
        4,
        "groups",
        "locality",
        "Number of marginalised groups besides the majority (G - 1).",
        structural=True,
    ),
    _p(
        "marginalised_share",
        "float",
        0.25,
        0.0,
        0.9,
        "share",
        "locality",
        "Share of citizens in marginalised groups.",
    ),
    _p(
        "n_agencies",
        "int",
        12,
        1,
        100,
        "agencies",
        "locality",
        "Number of agencies: public bodies, NGOs, voluntary groups, businesses.",
        structural=True,
    ),
    _p(
        "networks_per_neighbourhood",
        "int",
        6,
        0,
        20,
        "slots",
        "locality",
        "Maximum citizen networks per neighbourhood.",
        structural=True,
    ),
    _p(
        "domains",
        "list",
        DEFAULT_DOMAINS,
        unit="names",
        strand="locality",
        help_="Outcome domains (K); the cross-impact matrix is built for these names.",
        structural=True,
    ),
    _p(
        "mean_degree",
        "float",
        8.0,
        0.0,
        60.0,
        "ties",
        "locality",
        "Mean number of social ties per citizen.",
        structural=True,
    ),
    _p(
        "bridge_share",
        "float",
        0.1,
        0.0,
        1.0,
        "share",
        "locality",
        "Share of social ties that bridge to other neighbourhoods.",
        structural=True,
    ),
    _p(
        "tie_clustering",
        "float",
        0.6,
        0.0,
        1.0,
        "share",
        "locality",
        "Share of local ties made to near neighbours (clustered) rather than at random.",
        structural=True,
    ),
    _p(
        "initial_outcome",
        "float",
        0.55,
        0.0,
        1.0,
        "index",
        "locality",
        "Mean initial outcome level of the majority group.",
    ),
    _p(
        "neighbourhood_spread",
        "float",
        0.1,
        0.0,
        0.5,
        "index",
        "locality",
        "Spread of initial outcomes across neighbourhoods (deprivation gradient).",
    ),
    _p(
        "baseline_level",
        "float",
        0.35,
        0.0,
        1.0,
        "index",
        "locality",
        "Level outcomes decay to without any delivery or co-production.",
    ),
    _p(
        "decay_rate",
        "float",
        0.03,
        0.0,
        1.0,
        "1/month",
        "locality",
        "Monthly rate at which outcomes decay toward the pressured baseline.",
    ),
    _p(
        "delivery_effect",
        "float",
        0.012,
        0.0,
        1.0,
        "1/month",
        "locality",
        "Outcome gain per unit of per-capita input (service or co-production), before diminishing returns.",
    ),
    _p(
        "interdependence",
        "float",
        0.5,
        0.0,
        1.5,
        "x",
        "locality",
        "Strength of the cross-impact matrix C: how much domains lift or drag each other.",
    ),
    # Austerity and demand
    _p(
        "council_budget",
        "float",
        1.0,
        0.0,
        10.0,
        "per capita/yr",
        "austerity",
        "Council's starting budget per citizen per year (1 = the reference level).",
    ),
    _p(
        "austerity_rate",
        "float",
        0.0,
        -0.5,
        0.5,
        "1/yr",
        "austerity",
        "Constant real change in the council budget each year, on top of budget_path (NAO 2018: -0.047).",
    ),
    _p(
        "budget_path",
        "series",
        (),
        0.0,
        10.0,
        "x start",
        "austerity",
        "Council budget by year as multiples of its start (year 0 first, last value holds); empty = flat.",
    ),
    _p(
        "protected_path",
        "series",
        (),
        0.0,
        10.0,
        "x start",
        "austerity",
        "Ring-fenced care budget by year as multiples of its start; empty = grows with demand_growth.",
    ),
    _p(
        "demand_growth",
        "float",
        0.0,
        0.0,
        0.3,
        "1/yr",
        "austerity",
        "Yearly rise in need: the shortfall of the structural baseline grows by this share a year.",
    ),
    _p(
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
    _p(
        "agency_own_income",
        "float",
        0.15,
        0.0,
        2.0,
        "share",
        "austerity",
        "Agencies' income from outside the council, as a share of their starting commission.",
    ),
    # 1 Defining valued outcomes
    _p(
        "priority_focus",
        "int",
        1,
        1,
        4,
        "exponent",
        "outcomes",
        "How strongly citizens put their largest gaps first (1 = in proportion to the gap).",
    ),
    _p(
        "value_diversity",
        "float",
        0.5,
        0.0,
        1.0,
        "share",
        "outcomes",
        "How far citizens' own valued outcomes differ from their group's (each champions one domain).",
    ),
    _p(
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
    _p(
        "need_weight",
        "float",
        0.3,
        0.0,
        1.0,
        "share",
        "outcomes",
        "Weight of measured need when the council revises its priorities.",
    ),
    _p(
        "agenda_inertia",
        "float",
        0.5,
        0.0,
        1.0,
        "share",
        "outcomes",
        "Share of last year's priority weights kept at each revision.",
    ),
    _p(
        "commissioning_outcomes",
        "float",
        0.5,
        0.0,
        1.0,
        "share",
        "outcomes",
        "0 = historic departmental shares, 1 = outcomes-based commissioning by weighted need.",
    ),
    _p(
        "social_value_weight",
        "float",
        0.0,
        0.0,
        1.0,
        "share",
        "outcomes",
        "Weight of social value (openness to co-production) in outcomes-based commissioning.",
    ),
    # 2 Engaging whole systems
    _p(
        "coordination_enabled",
        "bool",
        True,
        unit="switch",
        strand="whole_systems",
        help_="Allow agencies to form coordination ties.",
    ),
    _p(
        "coordination_propensity",
        "float",
        0.03,
        0.0,
        1.0,
        "1/month",
        "whole_systems",
        "Monthly chance that two agencies with linked remits form a coordination tie.",
    ),
    _p(
        "coordination_benefit",
        "float",
        0.5,
        0.0,
        3.0,
        "x",
        "whole_systems",
        "How much joined-up delivery spills into partner domains through C (0 = none).",
    ),
    _p(
        "coordination_cost",
        "float",
        0.04,
        0.0,
        0.5,
        "share/partner",
        "whole_systems",
        "Staff time each coordination partnership takes, as a share of the agency's starting budget.",
    ),
    _p(
        "coordination_decay",
        "float",
        0.01,
        0.0,
        1.0,
        "1/month",
        "whole_systems",
        "Monthly chance a coordination tie lapses for reasons other than money.",
    ),
    _p(
        "core_commitment",
        "float",
        0.8,
        0.0,
        1.0,
        "share",
        "whole_systems",
        "Share of its starting budget an agency spends on core delivery before paying for partnerships.",
    ),
    _p(
        "convening_funds",
        "float",
        0.0,
        0.0,
        0.2,
        "share",
        "whole_systems",
        "Council budget share spent convening: pays part of partnership costs; 5% triples tie-forming.",
    ),
    # 3 Co-producing
    _p(
        "coproduction_openness",
        "float",
        0.3,
        0.0,
        1.0,
        "share",
        "coproduction",
        "Mean openness of agencies to co-production with citizens.",
    ),
    _p(
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
    _p("trust_initial", "float", 0.5, 0.0, 1.0, "index", "coproduction", "Initial trust in institutions."),
    _p(
        "trust_rate",
        "float",
        0.05,
        0.0,
        1.0,
        "1/month",
        "coproduction",
        "Monthly speed at which trust moves toward how responsive institutions are.",
    ),
    _p(
        "trust_cut_sensitivity",
        "float",
        2.0,
        0.0,
        10.0,
        "x",
        "coproduction",
        "How much budget cuts lower trust.",
    ),
    _p(
        "trust_engagement_weight",
        "float",
        0.2,
        0.0,
        1.0,
        "x",
        "coproduction",
        "How much trust above 0.5 adds to a citizen's push to engage.",
    ),
    # Engagement contagion
    _p(
        "initial_engagement",
        "float",
        0.22,
        0.0,
        1.0,
        "share",
        "engagement",
        "Initial share of engaged citizens (Community Life Survey: 22% volunteer monthly).",
    ),
    _p(
        "seed_engaged",
        "int",
        0,
        0,
        1_000_000,
        "citizens",
        "engagement",
        "Extra citizens engaged at the start, chosen at random (Watts: a single seed).",
    ),
    _p(
        "threshold_mean",
        "float",
        0.45,
        0.0,
        1.0,
        "share",
        "engagement",
        "Mean engagement threshold: share of engaged ties needed to engage (Granovetter; Watts).",
    ),
    _p(
        "threshold_sd",
        "float",
        0.12,
        0.0,
        0.5,
        "share",
        "engagement",
        "Spread of engagement thresholds across citizens.",
    ),
    # Classic results (Granovetter 1978): where thresholds and social ties come from
    _p(
        "threshold_distribution",
        "choice",
        "normal",
        unit="kind",
        strand="engagement",
        help_="Thresholds from a normal or a uniform with threshold_mean and threshold_sd (clipped "
        "to [0, 1]), or one per citizen from threshold_file.",
        choices=THRESHOLD_DISTRIBUTIONS,
    ),
    _p(
        "threshold_file",
        "path",
        "",
        unit="CSV",
        strand="engagement",
        help_="CSV with a column 'threshold' (a share in [0, 1]), one row per citizen in citizen "
        "order; used when threshold_distribution = 'file'.",
    ),
    _p(
        "network",
        "choice",
        "random",
        unit="kind",
        strand="locality",
        help_="Social ties: 'random' (mean_degree, bridge_share, tie_clustering), 'complete' "
        f"(everyone tied to everyone; at most {COMPLETE_MAX_CITIZENS} citizens) or 'file' (edge_file).",
        choices=NETWORKS,
        structural=True,
    ),
    _p(
        "edge_file",
        "path",
        "",
        unit="CSV",
        strand="locality",
        help_="CSV edge list with columns 'source' and 'target' (0-based citizen indices; undirected, "
        "self-ties dropped, repeats merged); used when network = 'file'.",
        structural=True,
    ),
    _p(
        "contagion_weight",
        "float",
        1.0,
        0.0,
        2.0,
        "x",
        "engagement",
        "Weight of the share of engaged ties in a citizen's push to engage.",
    ),
    _p(
        "spontaneous_rate",
        "float",
        0.01,
        0.0,
        1.0,
        "1/month",
        "engagement",
        "Monthly chance a disengaged citizen of full capacity engages on their own initiative.",
    ),
    _p(
        "burnout_rate",
        "float",
        0.12,
        0.0,
        0.5,
        "1/month",
        "engagement",
        "Monthly chance an engaged citizen of zero capacity drops out (scaled by 1 - capacity).",
    ),
    _p(
        "capacity_mean",
        "float",
        0.6,
        0.0,
        1.0,
        "share",
        "engagement",
        "Mean capacity (time and resources) of majority citizens.",
    ),
    _p("capacity_sd", "float", 0.15, 0.0, 0.5, "share", "engagement", "Spread of capacity across citizens."),
    # 5 Working inclusively
    _p(
        "participation_barrier",
        "float",
        0.1,
        0.0,
        1.0,
        "share",
        "inclusion",
        "Extra engagement threshold faced by marginalised citizens.",
    ),
    _p(
        "marginalised_capacity_penalty",
        "float",
        0.2,
        0.0,
        1.0,
        "share",
        "inclusion",
        "Capacity marginalised citizens lack relative to the majority.",
    ),
    _p(
        "marginalised_disadvantage",
        "float",
        0.12,
        0.0,
        0.5,
        "index",
        "inclusion",
        "Initial and structural outcome disadvantage of marginalised groups.",
    ),
    _p(
        "outreach",
        "float",
        0.0,
        0.0,
        1.0,
        "share",
        "inclusion",
        "Inclusive outreach (up to 3% of budget): lowers the barrier by this share, reaches the excluded.",
    ),
    _p(
        "needs_targeting",
        "float",
        0.5,
        0.0,
        1.0,
        "share",
        "inclusion",
        "Share of service delivery allocated by need rather than by head count.",
    ),
    # 4 Strengthening resilience
    _p("shock_month", "int", -1, -1, 2400, "month", "resilience", "Month of a scheduled shock (-1 = none)."),
    _p(
        "shock_kind",
        "choice",
        "economic",
        unit="kind",
        strand="resilience",
        help_="What the scheduled shock hits.",
        choices=("economic", "environmental", "budget"),
    ),
    _p(
        "shock_size",
        "float",
        0.2,
        0.0,
        1.0,
        "share",
        "resilience",
        "Share of outcome (or budget) lost in a shock.",
    ),
    _p(
        "shock_scope",
        "float",
        1.0,
        0.0,
        1.0,
        "share",
        "resilience",
        "Chance each neighbourhood is hit by a shock.",
    ),
    _p(
        "random_shock_rate",
        "float",
        0.0,
        0.0,
        2.0,
        "1/yr",
        "resilience",
        "Yearly rate of random economic shocks.",
    ),
    _p(
        "mutual_aid",
        "float",
        0.3,
        0.0,
        2.0,
        "1/month",
        "resilience",
        "Monthly share of a shock's loss that engaged neighbours and allied places restore, for a year.",
    ),
    # 6 Finding cooperative solutions
    _p(
        "networks_enabled",
        "bool",
        True,
        unit="switch",
        strand="cooperation",
        help_="Allow citizen networks to form, recruit and act.",
    ),
    _p(
        "join_rate",
        "float",
        0.05,
        0.0,
        1.0,
        "1/month",
        "cooperation",
        "Monthly chance an engaged citizen without a network joins a local one.",
    ),
    _p(
        "network_found_size",
        "int",
        6,
        1,
        1000,
        "citizens",
        "cooperation",
        "Engaged citizens without a network per founding group: the founding hazard grows with their number.",
    ),
    _p(
        "network_min_members",
        "int",
        3,
        0,
        1000,
        "citizens",
        "cooperation",
        "A network older than six months with fewer members dissolves.",
    ),
    _p(
        "network_dues",
        "float",
        0.02,
        0.0,
        1.0,
        "per member/month",
        "cooperation",
        "Resources each member's capacity adds to a network per month.",
    ),
    _p(
        "scaling_rate",
        "float",
        0.02,
        0.0,
        1.0,
        "1/month",
        "cooperation",
        "Monthly chance a large, cohesive network seeds a sister network elsewhere.",
    ),
    _p(
        "network_grants",
        "float",
        0.0,
        0.0,
        0.2,
        "share",
        "cooperation",
        "Share of the council budget granted to citizen networks.",
    ),
    _p(
        "alliances_enabled",
        "bool",
        True,
        unit="switch",
        strand="cooperation",
        help_="Allow networks and agencies to form alliances.",
    ),
    _p(
        "alliance_propensity",
        "float",
        0.004,
        0.0,
        1.0,
        "1/month",
        "cooperation",
        "Monthly chance that two compatible actors (shared focus, trust) ally.",
    ),
    _p(
        "alliance_decay",
        "float",
        0.03,
        0.0,
        1.0,
        "1/month",
        "cooperation",
        "Monthly chance an alliance tie lapses.",
    ),
    _p(
        "alliance_synergy",
        "float",
        0.3,
        0.0,
        2.0,
        "x",
        "cooperation",
        "Extra effect of pooled resources per additional ally.",
    ),
    _p(
        "influence_threshold",
        "float",
        0.05,
        0.0,
        1.0,
        "share",
        "cooperation",
        "Share of citizens a network or alliance must represent to shift the council's agenda.",
    ),
    _p(
        "alliance_voice",
        "float",
        0.5,
        0.0,
        1.0,
        "share",
        "cooperation",
        "Weight of allied voice in the agenda once past the influence threshold.",
    ),
]

SCHEMA: dict[str, Param] = {p.name: p for p in _PARAMS}
"""All parameters by name, in display order."""


def defaults() -> dict[str, Any]:
    """Return a fresh dict of every parameter's default value."""
    return {name: p.default for name, p in SCHEMA.items()}


def suggest(name: str) -> str:
    """Return a ``did you mean`` hint for an unknown key, or ''."""
    close = difflib.get_close_matches(name, list(SCHEMA), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check(name: str, value: Any) -> Any:
    """Validate one ``name = value`` pair and return the normalised value.

    Raises
    ------
    ParamError
        For an unknown key (with a did-you-mean hint) or a bad value.
    """
    if name not in SCHEMA:
        raise ParamError(f"unknown parameter {name!r}{suggest(name)}; run `civsim params` to list them")
    return SCHEMA[name].coerce(value)


def resolve(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return defaults updated with validated ``overrides``.

    Also checks rules that involve several parameters.
    """
    out = defaults()
    for key, value in (overrides or {}).items():
        out[key] = check(key, value)
    if out["voice_weight"] + out["need_weight"] > 1.0 + 1e-12:
        raise ParamError(
            f"voice_weight + need_weight = {out['voice_weight'] + out['need_weight']:g} is not allowed: "
            "their sum must be at most 1 (the rest is the council's own view)"
        )
    _check_sources(out)
    return out


def _check_sources(p: dict[str, Any]) -> None:
    """Rules linking threshold_distribution / network to their files and sizes."""
    for choice, key in (("threshold_distribution", "threshold_file"), ("network", "edge_file")):
        if p[choice] == "file" and not p[key]:
            raise ParamError(
                f"{choice} = 'file' needs {key}: give {key} = \"<a CSV file>\" ({SCHEMA[key].help})"
            )
    if p["network"] == "complete" and p["n_citizens"] > COMPLETE_MAX_CITIZENS:
        raise ParamError(
            f"network = 'complete' with n_citizens = {p['n_citizens']} is not allowed: a complete graph "
            f"needs n_citizens <= {COMPLETE_MAX_CITIZENS} (use network = 'random' with a large mean_degree)"
        )


def markdown_table() -> str:
    """The schema as a Markdown table (the parameter table of docs/ODD.md)."""

    def fmt(v: Any) -> str:
        if isinstance(v, str) and not v:
            return '""'
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, tuple):
            return ", ".join(fmt(x) for x in v) if v else "(none)"
        return f"{v:g}" if isinstance(v, float) else str(v)

    def allowed(p: Param) -> str:
        if p.type == "path":
            return "file path"
        if p.type == "bool":
            return "true/false"
        if p.type == "choice":
            return " / ".join(p.choices)
        if p.type == "list":
            return ">= 2 distinct names"
        if p.type == "series":
            return f"numbers in [{fmt(p.min)}, {fmt(p.max)}]"
        if p.type == "text":
            return "YYYY-MM"
        return f"[{fmt(p.min)}, {fmt(p.max)}]"

    lines = ["| name | type | default | range | unit | strand | help |", "|---|---|---|---|---|---|---|"]
    for p in SCHEMA.values():
        t = p.type + (" (structural)" if p.structural else "")
        lines.append(
            f"| `{p.name}` | {t} | {fmt(p.default)} | {allowed(p)} | {p.unit} "
            f"| {STRANDS[p.strand]} | {p.help} |"
        )
    return "\n".join(lines) + "\n"


def schema_records() -> list[dict[str, Any]]:
    """The schema as plain records (for ``civsim params --json`` and tools)."""
    return [
        {
            "name": p.name,
            "type": p.type,
            "default": list(p.default) if isinstance(p.default, tuple) else p.default,
            "min": p.min,
            "max": p.max,
            "unit": p.unit,
            "strand": p.strand,
            "help": p.help,
            "choices": list(p.choices),
            "structural": p.structural,
        }
        for p in SCHEMA.values()
    ]
