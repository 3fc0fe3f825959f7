"""Colours and escaping shared by the SVG drawings (:mod:`civsim.app.drawings`)."""

from __future__ import annotations

import functools
import html

import numpy as np

MAP_RANGE = (0.25, 0.85)
"""Outcome index range of the map's colour scale (fixed, so colours mean the same every step)."""

KIND_COLOURS: dict[str, str] = {
    "network": "#0f766e",
    "public": "#264653",
    "ngo": "#7c5e10",
    "voluntary": "#b45309",
    "business": "#57534e",
    "council": "#c1121f",
}
"""Node colours by kind of actor (citizen network, agency sector, council)."""

ALLIANCE_COLOUR = "#9b2226"
COORD_COLOUR = "#0077b6"
POSITIVE = "#2d6a4f"
NEGATIVE = "#c1121f"


def _esc(s: object) -> str:
    return html.escape(str(s), quote=True)


RDYLGN = (
    "#a50026", "#d62f27", "#f46d43", "#fdad60", "#fee08b", "#feffbe",
    "#d9ef8b", "#a5d86a", "#66bd63", "#199750", "#006837",
)  # fmt: skip
"""ColorBrewer RdYlGn at 0, 0.1, ..., 1 (as matplotlib's ``RdYlGn``)."""


@functools.lru_cache(maxsize=1)
def _colour_table(n: int = 101) -> tuple[str, ...]:
    """RdYlGn interpolated at ``n`` points: looked up per hexagon instead of calling a colormap."""
    anchors = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in RDYLGN], dtype=float)
    xs = np.linspace(0.0, 1.0, len(RDYLGN))
    t = np.linspace(0.0, 1.0, n)
    rgb = np.stack([np.interp(t, xs, anchors[:, k]) for k in range(3)], axis=1).round().astype(int)
    return tuple(f"#{r:02x}{g:02x}{b:02x}" for r, g, b in rgb)


def outcome_colour(value: float) -> str:
    """Map colour of an outcome index (red = low, green = high), from a 101-step table."""
    lo, hi = MAP_RANGE
    x = min(1.0, max(0.0, (float(value) - lo) / (hi - lo))) if np.isfinite(value) else 0.0
    table = _colour_table()
    return table[int(round(x * (len(table) - 1)))]
