"""SVG drawings for the pages: neighbourhood map, actor graph, causal-loop diagrams.

Plain SVG strings (no JavaScript, no CDN): fast to redraw every step, crisp
on a projector, and readable by the browser tests (counts are in ``data-``
attributes). Layouts are fixed rings, so nodes do not jump between steps.

One module per drawing: :mod:`~civsim.app.neighbourhood_map`, :mod:`~civsim.app.actor_graph`,
:mod:`~civsim.app.loop_diagrams`; colours in :mod:`~civsim.app.svg_style`. This module
re-exports them.
"""

from __future__ import annotations

from civsim.app.actor_graph import GraphCounts, actor_graph_svg
from civsim.app.loop_diagrams import (
    ACTOR_LOOP_EDGES,
    ACTOR_LOOP_NODES,
    Loop,
    challenge_edges,
    cld_svg,
    find_loops,
)
from civsim.app.neighbourhood_map import neighbourhood_map_svg
from civsim.app.svg_style import (
    ALLIANCE_COLOUR,
    COORD_COLOUR,
    KIND_COLOURS,
    MAP_RANGE,
    NEGATIVE,
    POSITIVE,
    RDYLGN,
    outcome_colour,
)

__all__ = [
    "ACTOR_LOOP_EDGES",
    "ACTOR_LOOP_NODES",
    "ALLIANCE_COLOUR",
    "COORD_COLOUR",
    "KIND_COLOURS",
    "MAP_RANGE",
    "NEGATIVE",
    "POSITIVE",
    "RDYLGN",
    "GraphCounts",
    "Loop",
    "actor_graph_svg",
    "challenge_edges",
    "cld_svg",
    "find_loops",
    "neighbourhood_map_svg",
    "outcome_colour",
]
