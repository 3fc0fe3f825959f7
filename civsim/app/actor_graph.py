# ruff: noqa: E501  (SVG markup and sentences read better unbroken)
"""The actor graph: citizen networks, agencies and the council, with alliance and coordination ties."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from civsim.app.svg_style import ALLIANCE_COLOUR, COORD_COLOUR, KIND_COLOURS, _esc


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
