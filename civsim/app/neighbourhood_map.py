# ruff: noqa: E501  (SVG markup and sentences read better unbroken)
"""The neighbourhood map: a honeycomb of neighbourhoods coloured by their outcome index."""

from __future__ import annotations

import math

from civsim.app.svg_style import MAP_RANGE, _esc, outcome_colour


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
