# ruff: noqa: E501  (SVG markup and sentences read better unbroken)
"""Causal-loop diagrams: feedback loops and their polarity, the system of challenges, the SVG."""

from __future__ import annotations

import math
from dataclasses import dataclass

import networkx as nx
import numpy as np

from civsim.app.svg_style import NEGATIVE, POSITIVE, _esc, outcome_colour


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
