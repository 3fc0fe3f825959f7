# ruff: noqa: E501  (SVG markup and sentences read better unbroken)
"""Small SVG line charts: fast enough to redraw every month of a live run.

Matplotlib takes a good part of a second per figure on a small machine; the
pages redraw four or five charts per frame, so they are drawn here as SVG
strings instead (a few milliseconds each), with the same look everywhere:
lines, optional 90% bands, a right-hand axis for one series, shocks and
interventions marked as vertical lines.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

PALETTE = [
    "#1b4965",
    "#e76f51",
    "#2a9d8f",
    "#e9c46a",
    "#9b2226",
    "#6a4c93",
    "#8ab17d",
    "#f4a261",
    "#457b9d",
    "#bc6c25",
]


@dataclass
class Series:
    label: str
    y: Sequence[float]
    colour: str
    width: float = 1.8
    dash: str = ""
    right: bool = False


@dataclass
class Band:
    lo: Sequence[float]
    hi: Sequence[float]
    colour: str


@dataclass
class Marker:
    x: float
    label: str
    colour: str = "#6a4c93"
    dash: str = "6,4"


def _esc(s: object) -> str:
    return html.escape(str(s), quote=True)


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] (about n of them)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0, 1.0]
    if hi <= lo:
        hi = lo + (abs(lo) * 0.1 or 1.0)
    raw = (hi - lo) / max(1, n)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if raw <= m * mag)
    first = math.floor(lo / step + 1e-9)
    last = math.ceil(hi / step - 1e-9)
    return [round(k * step, 10) for k in range(first, last + 1)]


def _fmt(v: float, step: float) -> str:
    """A tick label with as many decimals as the step needs (0.025 -> 3)."""
    digits = max(0, -int(math.floor(math.log10(step)))) if step < 1 else 0
    while digits < 6 and abs(round(step, digits) - step) > 1e-9 * max(1.0, abs(step)):
        digits += 1
    return f"{v:.{digits}f}"


def _range(values: list[np.ndarray], ylim: tuple[float, float] | None) -> tuple[float, float]:
    if ylim is not None:
        return ylim
    finite = [v[np.isfinite(v)] for v in values if len(v)]
    finite = [v for v in finite if v.size]
    if not finite:
        return 0.0, 1.0
    lo = float(min(v.min() for v in finite))
    hi = float(max(v.max() for v in finite))
    pad = (hi - lo) * 0.08 or (abs(hi) * 0.05 or 0.05)
    return lo - pad, hi + pad


def line_chart_svg(
    x: Sequence[float],
    series: Sequence[Series],
    title: str,
    ylabel: str = "",
    xlabel: str = "year",
    xmax: float | None = None,
    ylim: tuple[float, float] | None = None,
    bands: Sequence[Band] = (),
    markers: Sequence[Marker] = (),
    shocks: Sequence[float] = (),
    right_label: str = "",
    width: int = 560,
    height: int = 300,
    big: bool = False,
    css_class: str = "civsim-chart",
) -> str:
    """A line chart as an SVG string (x in years)."""
    fs = 1.35 if big else 1.0
    xs = np.asarray(x, dtype=float)
    left_series = [s for s in series if not s.right]
    right_series = [s for s in series if s.right]
    ml, mr, mt = 58 * fs, (58 * fs if right_series else 16), 34 * fs
    # legend below the plot, wrapped into rows
    col_w = (
        max(150.0, 6.6 * max((len(s.label) + (13 if s.right else 0) for s in series), default=0) + 30) * fs
    )
    per_row = max(1, int((width - ml) // col_w))
    legend_rows = math.ceil(len(series) / per_row) if series else 0
    mb = 44 * fs + legend_rows * 18 * fs
    total_h = height + legend_rows * 18 * fs
    pw, ph = width - ml - mr, total_h - mt - mb
    x_hi = max(1.0, float(xmax or 0.0), float(xs.max()) if xs.size else 0.0)
    ylo, yhi = _range(
        [np.asarray(s.y, float) for s in left_series]
        + [np.asarray(b.lo, float) for b in bands]
        + [np.asarray(b.hi, float) for b in bands],
        ylim,
    )
    yticks = nice_ticks(ylo, yhi)
    ylo, yhi = min(ylo, yticks[0]), max(yhi, yticks[-1])
    ystep = yticks[1] - yticks[0] if len(yticks) > 1 else 1.0

    def px(v):
        return ml + pw * (v / x_hi)

    def py(v, lo=None, hi=None):
        lo = ylo if lo is None else lo
        hi = yhi if hi is None else hi
        return mt + ph * (1 - (v - lo) / ((hi - lo) or 1.0))

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{css_class}" viewBox="0 0 {width} {total_h:.0f}" width="100%" '
        f'data-points="{len(xs)}" role="img" aria-label="{_esc(title)}" style="font-family: sans-serif">',
        f'<text x="{ml:.0f}" y="{20 * fs:.0f}" font-size="{14 * fs:.0f}" font-weight="bold">{_esc(title)}</text>',
    ]
    # grid and axes
    for t in yticks:
        y = py(t)
        out.append(f'<line x1="{ml:.1f}" y1="{y:.1f}" x2="{ml + pw:.1f}" y2="{y:.1f}" stroke="#e3e3e3"/>')
        out.append(
            f'<text x="{ml - 6:.1f}" y="{y + 4:.1f}" font-size="{11 * fs:.0f}" text-anchor="end" fill="#444">{_fmt(t, ystep)}</text>'
        )
    xstep = next(s for s in (1, 2, 5, 10, 20, 50, 100) if x_hi / s <= 10)
    t = 0.0
    while t <= x_hi + 1e-9:
        xx = px(t)
        out.append(f'<line x1="{xx:.1f}" y1="{mt:.1f}" x2="{xx:.1f}" y2="{mt + ph:.1f}" stroke="#f0f0f0"/>')
        out.append(
            f'<text x="{xx:.1f}" y="{mt + ph + 15 * fs:.1f}" font-size="{11 * fs:.0f}" text-anchor="middle" fill="#444">{t:g}</text>'
        )
        t += xstep
    out.append(
        f'<line x1="{ml:.1f}" y1="{mt + ph:.1f}" x2="{ml + pw:.1f}" y2="{mt + ph:.1f}" stroke="#888"/>'
    )
    out.append(f'<line x1="{ml:.1f}" y1="{mt:.1f}" x2="{ml:.1f}" y2="{mt + ph:.1f}" stroke="#888"/>')
    out.append(
        f'<text x="{ml + pw / 2:.1f}" y="{mt + ph + 31 * fs:.1f}" font-size="{12 * fs:.0f}" text-anchor="middle" fill="#333">{_esc(xlabel)}</text>'
    )
    if ylabel:
        out.append(
            f'<text transform="translate({14 * fs:.1f},{mt + ph / 2:.1f}) rotate(-90)" font-size="{12 * fs:.0f}" '
            f'text-anchor="middle" fill="#333">{_esc(ylabel)}</text>'
        )
    # right axis
    rlo = rhi = 0.0
    if right_series:
        rlo, rhi = _range([np.asarray(s.y, float) for s in right_series], None)
        rticks = nice_ticks(rlo, rhi, 4)
        rlo, rhi = min(rlo, rticks[0]), max(rhi, rticks[-1])
        rstep = rticks[1] - rticks[0] if len(rticks) > 1 else 1.0
        out.append(
            f'<line x1="{ml + pw:.1f}" y1="{mt:.1f}" x2="{ml + pw:.1f}" y2="{mt + ph:.1f}" stroke="#888"/>'
        )
        for t in rticks:
            y = py(t, rlo, rhi)
            out.append(
                f'<text x="{ml + pw + 6:.1f}" y="{y + 4:.1f}" font-size="{11 * fs:.0f}" fill="#444">{_fmt(t, rstep)}</text>'
            )
        if right_label:
            out.append(
                f'<text transform="translate({width - 8 * fs:.1f},{mt + ph / 2:.1f}) rotate(90)" font-size="{12 * fs:.0f}" '
                f'text-anchor="middle" fill="#333">{_esc(right_label)}</text>'
            )
    # bands
    for b in bands:
        lo, hi = np.asarray(b.lo, float), np.asarray(b.hi, float)
        pts = [f"{px(a):.1f},{py(v):.1f}" for a, v in zip(xs, hi, strict=False)] + [
            f"{px(a):.1f},{py(v):.1f}" for a, v in zip(xs[::-1], lo[::-1], strict=False)
        ]
        if pts:
            out.append(
                f'<polygon class="civsim-band" points="{" ".join(pts)}" fill="{b.colour}" opacity="0.18" stroke="none"/>'
            )
    # shocks and markers
    for sx in shocks:
        xx = px(sx)
        out.append(
            f'<line class="civsim-shock" x1="{xx:.1f}" y1="{mt:.1f}" x2="{xx:.1f}" y2="{mt + ph:.1f}" stroke="#c1121f" stroke-dasharray="2,3" stroke-width="1.5"/>'
        )
    for i, m in enumerate(markers):
        xx = px(m.x)
        out.append(
            f'<line class="civsim-marker" x1="{xx:.1f}" y1="{mt:.1f}" x2="{xx:.1f}" y2="{mt + ph:.1f}" stroke="{m.colour}" '
            f'stroke-dasharray="{m.dash}" stroke-width="2"/>'
        )
        anchor = "end" if xx > ml + pw * 0.7 else "start"
        dx = -4 if anchor == "end" else 4
        out.append(
            f'<text class="civsim-marker-label" x="{xx + dx:.1f}" y="{mt + (12 + 13 * (i % 3)) * fs:.1f}" font-size="{11 * fs:.0f}" '
            f'fill="{m.colour}" text-anchor="{anchor}">{_esc(m.label)}</text>'
        )
    # lines
    for s in series:
        y = np.asarray(s.y, float)
        lo, hi = (rlo, rhi) if s.right else (ylo, yhi)
        pts = " ".join(
            f"{px(a):.1f},{py(v, lo, hi):.1f}" for a, v in zip(xs, y, strict=False) if math.isfinite(v)
        )
        dash = f' stroke-dasharray="{s.dash}"' if s.dash else ""
        last = f"{y[-1]:.4f}" if len(y) else ""
        if len(xs) == 1 and math.isfinite(y[0]):
            out.append(
                f'<circle cx="{px(xs[0]):.1f}" cy="{py(y[0], lo, hi):.1f}" r="{3 * fs:.1f}" fill="{s.colour}"/>'
            )
        out.append(
            f'<polyline class="civsim-line" data-label="{_esc(s.label)}" data-last="{last}" points="{pts}" fill="none" '
            f'stroke="{s.colour}" stroke-width="{s.width * (1.3 if big else 1):.1f}"{dash} stroke-linejoin="round"/>'
        )
    # legend
    for i, s in enumerate(series):
        row, col = divmod(i, per_row)
        lx = ml + col * col_w
        ly = mt + ph + 50 * fs + row * 18 * fs
        dash = f' stroke-dasharray="{s.dash}"' if s.dash else ""
        out.append(
            f'<line x1="{lx:.1f}" y1="{ly - 4:.1f}" x2="{lx + 18:.1f}" y2="{ly - 4:.1f}" stroke="{s.colour}" stroke-width="3"{dash}/>'
        )
        suffix = " (right axis)" if s.right else ""
        out.append(
            f'<text x="{lx + 22:.1f}" y="{ly:.1f}" font-size="{11 * fs:.0f}" fill="#222">{_esc(s.label + suffix)}</text>'
        )
    out.append("</svg>")
    return "".join(out)
