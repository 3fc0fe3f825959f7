# ruff: noqa: E501  (SVG markup and sentences read better unbroken)
"""SVG drawings for the pages: neighbourhood map, actor graph, causal-loop diagrams.

Plain SVG strings (no JavaScript, no CDN): fast to redraw every step, crisp
on a projector, and readable by the browser tests (counts are in ``data-``
attributes). Layouts are fixed rings, so nodes do not jump between steps.
"""

from __future__ import annotations

import functools
import html
import math
from dataclasses import dataclass

import networkx as nx
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


def _hexagon(cx: float, cy: float, r: float) -> str:
    pts = [
        (cx + r * math.cos(math.radians(60 * i + 30)), cy + r * math.sin(math.radians(60 * i + 30)))
        for i in range(6)
    ]
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)


def neighbourhood_map_svg(
    values: list[float], start: list[float] | None = None, width: int = 460, big: bool = False
) -> str:
    """Honeycomb of neighbourhoods coloured by their outcome index.

    Each cell shows the index and, when ``start`` is given, the change since
    the start in points (hundredths of the index).
    """
    M = len(values)
    cols = max(1, math.ceil(math.sqrt(M * 1.3)))
    rows = math.ceil(M / cols)
    r = min(70.0, (width - 20) / (cols * math.sqrt(3) + math.sqrt(3) / 2))
    w = r * math.sqrt(3)
    height = int(rows * 1.5 * r + 0.5 * r + 60)
    fs = 1.25 if big else 1.0
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="civsim-map" viewBox="0 0 {width} {height}" '
        f'width="100%" data-hoods="{M}" role="img" aria-label="Outcome index by neighbourhood">'
    ]
    for m, val in enumerate(values):
        row, col = divmod(m, cols)
        cx = 10 + w / 2 + col * w + (w / 2 if row % 2 else 0)
        cy = 10 + r + row * 1.5 * r
        title = f"Neighbourhood {m + 1}: outcome index {val:.3f}"
        out.append(
            f'<g class="civsim-hood" data-hood="{m}" data-value="{val:.4f}"><title>{_esc(title)}</title>'
            f'<polygon points="{_hexagon(cx, cy, r * 0.96)}" fill="{outcome_colour(val)}" stroke="#333" stroke-width="1"/>'
            f'<text x="{cx:.1f}" y="{cy - r * 0.25:.1f}" text-anchor="middle" font-size="{12 * fs:.0f}" fill="#111">N{m + 1}</text>'
            f'<text x="{cx:.1f}" y="{cy + r * 0.12:.1f}" text-anchor="middle" font-size="{17 * fs:.0f}" '
            f'font-weight="bold" fill="#111">{val:.2f}</text>'
        )
        if start is not None and m < len(start):
            d = 100 * (val - start[m])
            arrow = "▲" if d > 0.05 else ("▼" if d < -0.05 else "•")
            out.append(
                f'<text x="{cx:.1f}" y="{cy + r * 0.5:.1f}" text-anchor="middle" font-size="{12 * fs:.0f}" '
                f'fill="#111">{arrow} {d:+.1f}</text>'
            )
        out.append("</g>")
    # colour legend
    ly = height - 30
    n = 20
    for i in range(n):
        x0 = 10 + i * (width - 20) / n
        val = MAP_RANGE[0] + (MAP_RANGE[1] - MAP_RANGE[0]) * (i + 0.5) / n
        out.append(
            f'<rect x="{x0:.1f}" y="{ly}" width="{(width - 20) / n + 0.5:.1f}" height="10" fill="{outcome_colour(val)}"/>'
        )
    out.append(f'<text x="10" y="{ly + 24}" font-size="{11 * fs:.0f}">{MAP_RANGE[0]:.2f} (low)</text>')
    out.append(
        f'<text x="{width - 10}" y="{ly + 24}" font-size="{11 * fs:.0f}" text-anchor="end">{MAP_RANGE[1]:.2f} (high)</text>'
    )
    out.append(
        f'<text x="{width / 2}" y="{ly + 24}" font-size="{11 * fs:.0f}" text-anchor="middle">'
        "outcome index (▲▼ change since start, points)</text>"
    )
    out.append("</svg>")
    return "".join(out)


@dataclass
class GraphCounts:
    networks: int
    agencies: int
    alliance_ties: int
    coordination_ties: int


def actor_graph_svg(
    alive: np.ndarray,
    net_hood: np.ndarray,
    net_members: np.ndarray,
    ally: np.ndarray,
    coord: np.ndarray,
    sector: np.ndarray,
    sectors: tuple[str, ...],
    n_hoods: int,
    size: int = 460,
    big: bool = False,
) -> tuple[str, GraphCounts]:
    """The live graph of alliances and coordination ties.

    Citizen networks sit on the outer ring, grouped by neighbourhood; agencies
    on the inner ring, coloured by sector; the council in the centre, linked
    to the agencies it commissions. Alliance ties (networks and agencies) are
    solid red, coordination ties between agencies dashed blue.
    """
    S = len(alive)
    A = len(sector)
    cx = cy = size / 2
    r_out, r_in = size * 0.42, size * 0.22
    fs = 1.25 if big else 1.0
    pos: dict[int, tuple[float, float]] = {}
    # networks: slot s of neighbourhood h at an angle inside h's arc
    per_hood = {h: [s for s in range(S) if net_hood[s] == h] for h in range(n_hoods)}
    for h, slots in per_hood.items():
        for j, s in enumerate(slots):
            ang = 2 * math.pi * (h + (j + 0.5) / max(1, len(slots))) / max(1, n_hoods) - math.pi / 2
            pos[s] = (cx + r_out * math.cos(ang), cy + r_out * math.sin(ang))
    for a in range(A):
        ang = 2 * math.pi * (a + 0.5) / max(1, A) - math.pi / 2
        pos[S + a] = (cx + r_in * math.cos(ang), cy + r_in * math.sin(ang))
    live = {s for s in range(S) if alive[s]}
    n_ally = n_coord = 0
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="civsim-graph" viewBox="0 0 {size} {size + 40}" width="100%" role="img" '
        'aria-label="Alliances and coordination ties">'
    ]
    # neighbourhood arcs (labels)
    for h in range(n_hoods):
        ang = 2 * math.pi * (h + 0.5) / max(1, n_hoods) - math.pi / 2
        x, y = cx + (r_out + 26) * math.cos(ang), cy + (r_out + 26) * math.sin(ang)
        out.append(
            f'<text x="{x:.1f}" y="{y:.1f}" font-size="{10 * fs:.0f}" fill="#777" text-anchor="middle">N{h + 1}</text>'
        )
    # council -> agencies (commissioning)
    for a in range(A):
        x, y = pos[S + a]
        out.append(f'<line x1="{cx}" y1="{cy}" x2="{x:.1f}" y2="{y:.1f}" stroke="#ccc" stroke-width="1"/>')
    # coordination ties
    for a in range(A):
        for b in range(a + 1, A):
            if coord[a, b] or coord[b, a]:
                n_coord += 1
                (x1, y1), (x2, y2) = pos[S + a], pos[S + b]
                out.append(
                    f'<line class="civsim-coord" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                    f'stroke="{COORD_COLOUR}" stroke-width="2" stroke-dasharray="5,3"/>'
                )
    # alliance ties
    n = S + A
    for i in range(n):
        for j in range(i + 1, n):
            if not (ally[i, j] or ally[j, i]):
                continue
            if (i < S and i not in live) or (j < S and j not in live):
                continue
            n_ally += 1
            (x1, y1), (x2, y2) = pos[i], pos[j]
            mx, my = (x1 + x2) / 2, (y1 + y2) / 2
            # bend toward the centre a little so ties between neighbours stay visible
            qx, qy = mx + 0.25 * (cx - mx), my + 0.25 * (cy - my)
            out.append(
                f'<path class="civsim-ally" d="M{x1:.1f},{y1:.1f} Q{qx:.1f},{qy:.1f} {x2:.1f},{y2:.1f}" '
                f'fill="none" stroke="{ALLIANCE_COLOUR}" stroke-width="2.5" opacity="0.8"/>'
            )
    # nodes
    for s in sorted(live):
        x, y = pos[s]
        members = int(net_members[s])
        rad = 5 + 2.2 * math.sqrt(max(0, members))
        rad = min(rad, 22)
        title = f"Citizen network {s} (neighbourhood {int(net_hood[s]) + 1}): {members} members"
        out.append(
            f'<g class="civsim-node civsim-node-network"><title>{_esc(title)}</title>'
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{rad:.1f}" fill="{KIND_COLOURS["network"]}" stroke="#fff" stroke-width="1.5"/></g>'
        )
    for a in range(A):
        x, y = pos[S + a]
        kind = sectors[int(sector[a])] if int(sector[a]) < len(sectors) else "public"
        title = f"Agency {a + 1} ({kind})"
        out.append(
            f'<g class="civsim-node civsim-node-agency"><title>{_esc(title)}</title>'
            f'<rect x="{x - 9:.1f}" y="{y - 9:.1f}" width="18" height="18" rx="3" fill="{KIND_COLOURS.get(kind, "#999")}" '
            f'stroke="#fff" stroke-width="1.5"/>'
            f'<text x="{x:.1f}" y="{y + 4:.1f}" font-size="{9 * fs:.0f}" text-anchor="middle" fill="#fff">{a + 1}</text></g>'
        )
    out.append(
        f'<g class="civsim-node civsim-node-council"><title>Council</title><circle cx="{cx}" cy="{cy}" r="16" '
        f'fill="{KIND_COLOURS["council"]}" stroke="#fff" stroke-width="2"/>'
        f'<text x="{cx}" y="{cy + 4}" font-size="{9 * fs:.0f}" text-anchor="middle" fill="#fff">Council</text></g>'
    )
    # legend
    ly = size + 14
    items = [
        ("network", "citizen network"),
        ("public", "public body"),
        ("ngo", "NGO"),
        ("voluntary", "voluntary"),
        ("business", "business"),
    ]
    x = 6.0
    for key, label in items:
        out.append(f'<rect x="{x:.0f}" y="{ly - 9}" width="10" height="10" fill="{KIND_COLOURS[key]}"/>')
        out.append(f'<text x="{x + 13:.0f}" y="{ly}" font-size="{10 * fs:.0f}">{label}</text>')
        x += 13 + 6.2 * len(label) * fs + 10
    ly += 18
    out.append(
        f'<line x1="6" y1="{ly - 4}" x2="30" y2="{ly - 4}" stroke="{ALLIANCE_COLOUR}" stroke-width="2.5"/>'
    )
    out.append(f'<text x="34" y="{ly}" font-size="{10 * fs:.0f}">alliance ({n_ally})</text>')
    out.append(
        f'<line x1="130" y1="{ly - 4}" x2="154" y2="{ly - 4}" stroke="{COORD_COLOUR}" stroke-width="2" stroke-dasharray="5,3"/>'
    )
    out.append(f'<text x="158" y="{ly}" font-size="{10 * fs:.0f}">coordination ({n_coord})</text>')
    out.append("</svg>")
    counts = GraphCounts(networks=len(live), agencies=A, alliance_ties=n_ally, coordination_ties=n_coord)
    svg = "".join(out).replace(
        'class="civsim-graph"',
        f'class="civsim-graph" data-networks="{counts.networks}" data-alliances="{n_ally}" data-coordination="{n_coord}"',
        1,
    )
    return svg, counts


# ---------------------------------------------------------------------------
# causal-loop diagrams


@dataclass(frozen=True)
class Loop:
    """A feedback loop: its nodes in order and its polarity (R reinforcing, B balancing)."""

    nodes: tuple[str, ...]
    polarity: str

    def describe(self) -> str:
        kind = "reinforcing" if self.polarity == "R" else "balancing"
        return " → ".join(self.nodes + (self.nodes[0],)) + f" ({kind})"


def find_loops(edges: dict[tuple[str, str], float], max_len: int = 3) -> list[Loop]:
    """Feedback loops up to ``max_len`` links, with polarity from the product of signs."""
    g = nx.DiGraph()
    for (a, b), w in edges.items():
        if w != 0 and a != b:
            g.add_edge(a, b, w=w)
    loops = []
    for cyc in nx.simple_cycles(g, length_bound=max_len):
        sign = 1.0
        for i, a in enumerate(cyc):
            sign *= math.copysign(1.0, g[a][cyc[(i + 1) % len(cyc)]]["w"])
        # rotate so the loop starts at its alphabetically first node (stable order)
        k = cyc.index(min(cyc))
        cyc = cyc[k:] + cyc[:k]
        loops.append(Loop(tuple(cyc), "R" if sign > 0 else "B"))
    loops.sort(key=lambda lp: (len(lp.nodes), lp.polarity, lp.nodes))
    return loops


def challenge_edges(
    domains: tuple[str, ...], cross_impact: np.ndarray, keep: float = 0.3
) -> dict[tuple[str, str], float]:
    """Links of the system of challenges: progress in j moves k by ``C[k, j]``.

    Links weaker than ``keep`` times the strongest are left out, so the
    diagram stays readable; negative links are always kept.
    """
    C = np.asarray(cross_impact, dtype=float)
    top = float(np.abs(C).max()) if C.size else 0.0
    out: dict[tuple[str, str], float] = {}
    if top <= 0:
        return out
    for k, dk in enumerate(domains):
        for j, dj in enumerate(domains):
            w = float(C[k, j])
            if j != k and w != 0 and (abs(w) >= keep * top or w < 0):
                out[(dj, dk)] = w
    return out


def cld_svg(
    nodes: list[str],
    edges: dict[tuple[str, str], float],
    levels: dict[str, float] | None = None,
    size: int = 560,
    big: bool = False,
    labels: dict[str, str] | None = None,
    loops: list[Loop] | None = None,
) -> str:
    """A causal-loop diagram: nodes on a circle, signed arrows, loop markers.

    ``levels`` (0..1) colour the nodes like the neighbourhood map. Arrow
    width follows the link's strength; ``+``/``−`` at the arrowhead gives its
    polarity. Loops (if given) are listed under the diagram with R/B.
    """
    n = len(nodes)
    cx, cy = size / 2, size / 2
    R = size * 0.36
    fs = 1.3 if big else 1.0
    node_r = 34 * (1.1 if big else 1.0)
    pos = {
        name: (
            cx + R * math.cos(2 * math.pi * i / max(1, n) - math.pi / 2),
            cy + R * math.sin(2 * math.pi * i / max(1, n) - math.pi / 2),
        )
        for i, name in enumerate(nodes)
    }
    top = max((abs(w) for w in edges.values()), default=1.0) or 1.0
    loops = loops or []
    per_line = int(size / (8.2 * fs))
    wrapped = sum(1 for lp in loops[:8] if len(lp.describe()) > per_line)
    extra = 26 * fs * min(len(loops), 8) + 20 * fs * wrapped + (20 if loops else 0)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="civsim-cld" viewBox="0 0 {size} {size + extra:.0f}" width="100%" '
        f'data-links="{len(edges)}" data-loops="{len(loops)}" role="img" aria-label="Causal loop diagram">',
        "<defs>",
        f'<marker id="arrow-pos" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="{12 * fs:.0f}" markerHeight="{12 * fs:.0f}" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="{POSITIVE}"/></marker>',
        f'<marker id="arrow-neg" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="{12 * fs:.0f}" markerHeight="{12 * fs:.0f}" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="{NEGATIVE}"/></marker>',
        "</defs>",
    ]
    for (a, b), w in edges.items():
        if a not in pos or b not in pos:
            continue
        (x1, y1), (x2, y2) = pos[a], pos[b]
        dx, dy = x2 - x1, y2 - y1
        dist = math.hypot(dx, dy) or 1.0
        ux, uy = dx / dist, dy / dist
        # start and end on the node circles; bend to the right of the direction of travel
        sx, sy = x1 + ux * node_r, y1 + uy * node_r
        ex, ey = x2 - ux * (node_r + 3), y2 - uy * (node_r + 3)
        bend = 0.18 * dist
        qx, qy = (sx + ex) / 2 - uy * bend, (sy + ey) / 2 + ux * bend
        colour = POSITIVE if w > 0 else NEGATIVE
        width = 1.2 + 3.5 * abs(w) / top
        marker = "arrow-pos" if w > 0 else "arrow-neg"
        sign = "+" if w > 0 else "−"
        # polarity label near the head
        t = 0.8
        lx = (1 - t) ** 2 * sx + 2 * (1 - t) * t * qx + t**2 * ex
        ly = (1 - t) ** 2 * sy + 2 * (1 - t) * t * qy + t**2 * ey
        title = f"{a} → {b}: {sign} ({w:+.3f})"
        out.append(
            f'<g class="civsim-link" data-sign="{sign}"><title>{_esc(title)}</title>'
            f'<path d="M{sx:.1f},{sy:.1f} Q{qx:.1f},{qy:.1f} {ex:.1f},{ey:.1f}" fill="none" stroke="{colour}" '
            f'stroke-width="{width:.1f}" opacity="0.75" marker-end="url(#{marker})"/>'
            f'<text x="{lx - uy * 9:.1f}" y="{ly + ux * 9 + 4:.1f}" font-size="{14 * fs:.0f}" font-weight="bold" '
            f'fill="{colour}" text-anchor="middle">{sign}</text></g>'
        )
    for name in nodes:
        x, y = pos[name]
        fill = outcome_colour(levels[name]) if levels and name in levels else "#f1f1f1"
        text = (labels or {}).get(name, name)
        sub = f"{levels[name]:.2f}" if levels and name in levels else ""
        out.append(
            f'<g class="civsim-cld-node"><circle cx="{x:.1f}" cy="{y:.1f}" r="{node_r:.0f}" fill="{fill}" stroke="#333" stroke-width="1.5"/>'
            f'<text x="{x:.1f}" y="{y + (0 if sub else 4):.1f}" font-size="{(11 if len(text) <= 9 else 9) * fs:.0f}" '
            f'text-anchor="middle" font-weight="bold">{_esc(text)}</text>'
        )
        if sub:
            out.append(
                f'<text x="{x:.1f}" y="{y + 14 * fs:.1f}" font-size="{11 * fs:.0f}" text-anchor="middle">{sub}</text>'
            )
        out.append("</g>")
    y = size + 6
    per_line = int(size / (8.2 * fs))
    for i, lp in enumerate(loops[:8]):
        y += 26 * fs
        colour = POSITIVE if lp.polarity == "R" else NEGATIVE
        text = lp.describe()
        rest = ""
        if len(text) > per_line:  # wrap long loops onto a second line
            cut = text.rfind(" ", 0, per_line)
            text, rest = text[:cut], text[cut + 1 :]
        out.append(
            f'<text x="12" y="{y:.0f}" font-size="{13 * fs:.0f}"><tspan font-weight="bold" fill="{colour}">'
            f"{lp.polarity}{i + 1}</tspan> {_esc(text)}</text>"
        )
        if rest:
            y += 20 * fs
            out.append(f'<text x="40" y="{y:.0f}" font-size="{13 * fs:.0f}">{_esc(rest)}</text>')
    if len(loops) > 8:
        y += 20
        out.append(
            f'<text x="12" y="{y:.0f}" font-size="{11 * fs:.0f}" fill="#555">… and {len(loops) - 8} more loops</text>'
        )
    out.append("</svg>")
    return "".join(out)


ACTOR_LOOP_NODES = [
    "trust",
    "agenda match",
    "alliances",
    "networks",
    "burnout",
    "engagement",
    "co-production",
    "outcomes",
    "coordination",
    "budget",
]
"""Nodes of the model's behavioural loops (the mechanisms behind the six strands)."""

ACTOR_LOOP_EDGES: dict[tuple[str, str], float] = {
    ("trust", "engagement"): 1.0,
    ("engagement", "co-production"): 1.0,
    ("co-production", "outcomes"): 1.0,
    ("outcomes", "trust"): 1.0,
    ("co-production", "trust"): 1.0,
    ("engagement", "burnout"): 1.0,
    ("burnout", "engagement"): -1.0,
    ("engagement", "networks"): 1.0,
    ("networks", "engagement"): 1.0,
    ("networks", "alliances"): 1.0,
    ("alliances", "agenda match"): 1.0,
    ("agenda match", "trust"): 1.0,
    ("budget", "trust"): 1.0,
    ("budget", "coordination"): 1.0,
    ("coordination", "outcomes"): 1.0,
}
"""How the model's mechanisms feed back (docs/ODD.md): trust and co-production
reinforce each other; burnout balances engagement; networks recruit; allied
networks shift the agenda; cuts lower trust and are taken from coordination
first."""
