# ruff: noqa: E501  (CSS, JavaScript and plotly figure literals read better unbroken)
"""The pages' line charts as plotly.js figures (plain dicts; drawn by :mod:`civsim.app.charts`).

Every chart has hover values for all its series at once, a legend that hides
and shows series, zoom and pan, and PNG export from its mode bar. Colours meet
WCAG's 3:1 contrast for graphics against the white background. Shocks are
dotted red lines; interventions dashed purple lines, numbered, with labels
stacked in rows so they never overlap (their full text, with each
intervention's size, is in the hover text and listed beside the charts).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from civsim.app.live import intervention_text

PALETTE = [
    "#1b4965",  # dark blue
    "#c2410c",  # burnt orange
    "#0f766e",  # teal
    "#9b2226",  # dark red
    "#6a4c93",  # purple
    "#7c5e10",  # ochre
    "#3f6212",  # olive green
    "#a21caf",  # magenta
    "#2563eb",  # blue
    "#57534e",  # warm grey
]
"""Line colours, each at least 3:1 against white (tested)."""
SCENARIO_COLOURS = ["#1b4965", "#c2410c", "#0f766e", "#6a4c93"]
"""Compare's scenario colours (A, B, C, D): text-safe too (4.5:1 on white)."""
SHOCK_COLOUR = "#c1121f"
MARK_COLOUR = "#6a4c93"
SECONDARY = "#4b5563"
CHART_FONT = "Roboto, 'DejaVu Sans', Arial, sans-serif"

MIN_PLOT_PX = 260.0
"""Intervention labels are placed assuming the plot is at least this wide (a phone)."""


def event_marks(
    frame: pd.DataFrame, interventions: Sequence[tuple[int, str, float]]
) -> tuple[list[float], list[tuple[float, str, str]]]:
    """Shock times and interventions (years): ``(shocks, [(x, number, full label)])``."""
    # the row for step t records a shock that happened during month t - 1 -> t
    shocks = (
        [(float(s) - 1.0) / 12.0 for s in frame.loc[frame["shock"] > 0, "step"]] if "shock" in frame else []
    )
    marks = [
        (month / 12.0, str(i + 1), f"{i + 1}. {intervention_text(name, value)} (month {month})")
        for i, (month, name, value) in enumerate(interventions)
    ]
    return shocks, marks


def label_rows(xs: Sequence[float], texts: Sequence[str], x_span: float, font_px: float) -> list[int]:
    """Row of each label (0 = top) so that no two labels in a row overlap.

    Labels are centred on their ``xs`` (data units over ``x_span``); widths are
    estimated for a plot :data:`MIN_PLOT_PX` wide, the narrowest the pages
    allow, so labels that do not collide there do not collide anywhere.
    """
    per_px = max(x_span, 1e-9) / MIN_PLOT_PX
    ends: list[list[tuple[float, float]]] = []
    rows = []
    for x, text in zip(xs, texts, strict=True):
        half = (0.62 * font_px * len(text) + 8.0) * per_px / 2
        lo, hi = x - half, x + half
        for r, taken in enumerate(ends):
            if all(hi <= a or lo >= b for a, b in taken):
                taken.append((lo, hi))
                rows.append(r)
                break
        else:
            ends.append([(lo, hi)])
            rows.append(len(ends) - 1)
    return rows


def _values(a: Any, k: float = 1.0) -> list[float | None]:
    arr = np.asarray(a, dtype=float) * k
    return [None if not math.isfinite(v) else round(float(v), 6) for v in arr]


def base_layout(
    title: str, ylabel: str, big: bool, height: int | None, uirevision: Any, xlabel: str = "year"
) -> dict[str, Any]:
    """Fonts, margins, legend and hover shared by the charts."""
    fs = 18 if big else 13
    return {
        # the title sits under the mode bar (top right), so they never overlap
        "title": {
            "text": title,
            "font": {"size": fs + 3},
            "x": 0.01,
            "xanchor": "left",
            "yref": "container",
            "y": 1,
            "yanchor": "top",
            "pad": {"t": 30},
            "subtitle": {"text": f"x axis: {xlabel}s", "font": {"size": fs - 1, "color": "#4b5563"}},
        },  # fmt: skip
        "font": {"family": CHART_FONT, "size": fs, "color": "#1f2937"},
        "height": height or (480 if big else 380),
        "margin": {"l": 10, "r": 10, "t": 30 + 3 * fs + 24, "b": 10, "autoexpand": True},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "hovermode": "x unified",
        "hoverlabel": {"font": {"size": fs}},
        # the legend under the plot (plotly widens the bottom margin to hold it)
        "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": -0.14, "yanchor": "top"},
        "xaxis": {
            # no axis title (it would collide with the legend below); the subtitle names the axis
            "automargin": True,
            "gridcolor": "#e5e7eb",
            "linecolor": "#6b7280",
            "zeroline": False,
            "hoverformat": ".2f",
        },
        "yaxis": {
            "title": {"text": ylabel},
            "automargin": True,
            "gridcolor": "#e5e7eb",
            "linecolor": "#6b7280",
            "zeroline": False,
        },
        "uirevision": str(uirevision),
        "shapes": [],
        "annotations": [],
    }


def chart_config(filename: str) -> dict[str, Any]:
    """plotly.js options: the mode bar with PNG export, no logo, responsive."""
    return {
        "displaylogo": False,
        "responsive": True,
        "displayModeBar": True,
        "modeBarButtonsToRemove": ["lasso2d", "select2d"],
        "toImageButtonOptions": {"format": "png", "filename": filename, "scale": 2},
    }


def add_events(
    layout: dict[str, Any],
    shocks: Sequence[float],
    marks: Sequence[tuple[float, str, str]],
    x_span: float,
    font_px: float,
) -> None:
    """Shocks (dotted red) and interventions (dashed purple, numbered) as vertical lines."""
    for sx in shocks:
        layout["shapes"].append(
            {
                "type": "line", "xref": "x", "yref": "paper", "x0": sx, "x1": sx, "y0": 0, "y1": 1,
                "line": {"color": SHOCK_COLOUR, "width": 2, "dash": "dot"}, "name": "shock",
            }
        )  # fmt: skip
    rows = label_rows([m[0] for m in marks], [m[1] for m in marks], x_span, font_px)
    for (x, number, full), row in zip(marks, rows, strict=True):
        layout["shapes"].append(
            {
                "type": "line", "xref": "x", "yref": "paper", "x0": x, "x1": x, "y0": 0, "y1": 1,
                "line": {"color": MARK_COLOUR, "width": 2.5, "dash": "dash"}, "name": "intervention",
            }
        )  # fmt: skip
        layout["annotations"].append(
            {
                "x": x, "xref": "x", "yref": "paper", "y": 1.0, "yanchor": "top", "yshift": -row * (font_px + 10),
                "text": f"<b>{number}</b>", "hovertext": full, "showarrow": False,
                "font": {"color": "white", "size": font_px}, "bgcolor": MARK_COLOUR, "borderpad": 3,
                "name": f"intervention-{number}",
            }
        )  # fmt: skip


def line_figure(
    frame: pd.DataFrame,
    columns: Sequence[str],
    labels: Sequence[str],
    title: str,
    ylabel: str,
    interventions: Sequence[tuple[int, str, float]] = (),
    big: bool = False,
    ylim: tuple[float, float] | None = None,
    percent: bool = False,
    emphasise: Sequence[str] = (),
    twin: tuple[str, str] | None = None,
    xmax: float = 0.0,
    uirevision: Any = 0,
    visible: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Lines of ``columns`` over years; ``twin`` = (column, label) on a right axis.

    ``visible`` (labels) limits which series start shown; the others start
    hidden in the legend (a click shows them), so a chart of many series stays
    readable.
    """
    x = _values(frame["step"].to_numpy(dtype=float) / 12.0)
    k = 100.0 if percent else 1.0
    fmt = "%{y:.1f}%" if percent else "%{y:.3f}"
    data = []
    for i, (col, lab) in enumerate(zip(columns, labels, strict=True)):
        data.append(
            {
                "type": "scatter", "mode": "lines", "name": lab, "x": x, "y": _values(frame[col], k),
                "line": {"color": PALETTE[i % len(PALETTE)], "width": (4 if col in emphasise else 2.2) * (1.3 if big else 1)},
                "hovertemplate": fmt,
                "visible": True if visible is None or lab in visible else "legendonly",
            }
        )  # fmt: skip
    layout = base_layout(title, ylabel + (" (%)" if percent else ""), big, None, uirevision)
    span = max(1.0, float(xmax or 0.0), float(x[-1] or 0.0) if x else 0.0)
    layout["xaxis"]["range"] = [0, span]
    if ylim is not None:
        layout["yaxis"]["range"] = [ylim[0] * k, ylim[1] * k]
    if twin is not None:
        col, lab = twin
        data.append(
            {
                "type": "scatter", "mode": "lines", "name": f"{lab} (right axis)", "x": x, "y": _values(frame[col]),
                "yaxis": "y2", "line": {"color": SECONDARY, "width": 2, "dash": "dash"}, "hovertemplate": "%{y:.3f}",
            }
        )  # fmt: skip
        layout["yaxis2"] = {
            "title": {"text": lab}, "overlaying": "y", "side": "right", "automargin": True,
            "showgrid": False, "zeroline": False, "linecolor": "#6b7280",
        }  # fmt: skip
    if len(x) == 1:
        for tr in data:
            tr["mode"] = "lines+markers"
    shocks, marks = event_marks(frame, interventions)
    add_events(layout, shocks, marks, span, layout["font"]["size"])
    return {"data": data, "layout": layout, "config": chart_config(title.split(":")[0].replace(" ", "_"))}


def band_figure(
    bands: pd.DataFrame, metric_label: str, percent: bool = False, uirevision: Any = 0
) -> dict[str, Any]:
    """Mean and 90% band over time per scenario (``bands`` from :func:`civsim.app.comparison.bands`).

    A scenario's band and mean share a legend entry, so one click hides both.
    """
    k = 100.0 if percent else 1.0
    fmt = "%{y:.1f}%" if percent else "%{y:.3f}"
    data = []
    for i, (name, b) in enumerate(bands.groupby("scenario", sort=False)):
        colour = SCENARIO_COLOURS[i % len(SCENARIO_COLOURS)]
        x = _values(b["step"].to_numpy(dtype=float) / 12.0)
        group = f"s{i}"
        data.append(
            {
                "type": "scatter", "mode": "lines", "x": x, "y": _values(b["lo"], k), "line": {"width": 0, "color": colour},
                "legendgroup": group, "showlegend": False, "hoverinfo": "skip", "name": f"{name} 5%",
            }
        )  # fmt: skip
        data.append(
            {
                "type": "scatter", "mode": "lines", "x": x, "y": _values(b["hi"], k), "line": {"width": 0, "color": colour},
                "fill": "tonexty", "fillcolor": _rgba(colour, 0.18), "legendgroup": group, "showlegend": False,
                "hoverinfo": "skip", "name": f"{name} 95%",
            }
        )  # fmt: skip
        data.append(
            {
                "type": "scatter", "mode": "lines", "x": x, "y": _values(b["mean"], k), "name": str(name),
                "legendgroup": group, "line": {"color": colour, "width": 3},
                "customdata": [[lo, hi] for lo, hi in zip(_values(b["lo"], k), _values(b["hi"], k), strict=True)],
                "hovertemplate": fmt + " [%{customdata[0]:.3f}, %{customdata[1]:.3f}]",
            }
        )  # fmt: skip
    title = f"{metric_label}: mean and 90% band of replicates"
    layout = base_layout(title, metric_label + (" (%)" if percent else ""), False, 420, uirevision)
    return {"data": data, "layout": layout, "config": chart_config("civsim-compare")}


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def relative_luminance(hex_colour: str) -> float:
    """WCAG relative luminance of a ``#rrggbb`` colour."""
    h = hex_colour.lstrip("#")
    chans = [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in chans]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str = "#ffffff") -> float:
    """WCAG contrast ratio of two colours (1 to 21)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)
