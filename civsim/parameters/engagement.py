"""Engagement contagion: thresholds, where thresholds and social ties come from, capacity.

Part of :data:`civsim.params.SCHEMA`, in display order. The section also holds
``network`` and ``edge_file`` (strand ``locality``): they sit here, next to the
threshold sources, as in the schema's display order.
"""

from __future__ import annotations

from civsim.parameters.param import Param, define

THRESHOLD_DISTRIBUTIONS: tuple[str, ...] = ("normal", "uniform", "file")
"""Where citizens' engagement thresholds come from (``threshold_distribution``)."""
NETWORKS: tuple[str, ...] = ("random", "complete", "file")
"""Where the social ties come from (``network``)."""
COMPLETE_MAX_CITIZENS = 2000
"""Largest population for ``network = 'complete'`` (N (N - 1) directed ties: 4 million at 2,000)."""


ENGAGEMENT: list[Param] = [
    # Engagement contagion
    define(
        "initial_engagement",
        "float",
        0.22,
        0.0,
        1.0,
        "share",
        "engagement",
        "Initial share of engaged citizens (Community Life Survey: 22% volunteer monthly).",
    ),
    define(
        "seed_engaged",
        "int",
        0,
        0,
        1_000_000,
        "citizens",
        "engagement",
        "Extra citizens engaged at the start, chosen at random (Watts: a single seed).",
    ),
    define(
        "threshold_mean",
        "float",
        0.45,
        0.0,
        1.0,
        "share",
        "engagement",
        "Mean engagement threshold: share of engaged ties needed to engage (Granovetter; Watts).",
    ),
    define(
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
    define(
        "threshold_distribution",
        "choice",
        "normal",
        unit="kind",
        strand="engagement",
        help_="Thresholds from a normal or a uniform with threshold_mean and threshold_sd (clipped "
        "to [0, 1]), or one per citizen from threshold_file.",
        choices=THRESHOLD_DISTRIBUTIONS,
    ),
    define(
        "threshold_file",
        "path",
        "",
        unit="CSV",
        strand="engagement",
        help_="CSV with a column 'threshold' (a share in [0, 1]), one row per citizen in citizen "
        "order; used when threshold_distribution = 'file'.",
    ),
    define(
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
    define(
        "edge_file",
        "path",
        "",
        unit="CSV",
        strand="locality",
        help_="CSV edge list with columns 'source' and 'target' (0-based citizen indices; undirected, "
        "self-ties dropped, repeats merged); used when network = 'file'.",
        structural=True,
    ),
    define(
        "contagion_weight",
        "float",
        1.0,
        0.0,
        2.0,
        "x",
        "engagement",
        "Weight of the share of engaged ties in a citizen's push to engage.",
    ),
    define(
        "spontaneous_rate",
        "float",
        0.01,
        0.0,
        1.0,
        "1/month",
        "engagement",
        "Monthly chance a disengaged citizen of full capacity engages on their own initiative.",
    ),
    define(
        "burnout_rate",
        "float",
        0.12,
        0.0,
        0.5,
        "1/month",
        "engagement",
        "Monthly chance an engaged citizen of zero capacity drops out (scaled by 1 - capacity).",
    ),
    define(
        "capacity_mean",
        "float",
        0.6,
        0.0,
        1.0,
        "share",
        "engagement",
        "Mean capacity (time and resources) of majority citizens.",
    ),
    define(
        "capacity_sd", "float", 0.15, 0.0, 0.5, "share", "engagement", "Spread of capacity across citizens."
    ),
]
