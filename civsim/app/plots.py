"""The pages' charts (SVG, see :mod:`civsim.app.svgplot`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from civsim.app.live import INTERVENTION_LABELS
from civsim.app.svgplot import PALETTE, Band, Marker, Series, line_chart_svg

SCENARIO_COLOURS = ["#1b4965", "#e76f51", "#2a9d8f", "#6a4c93"]


def event_marks(
    frame: pd.DataFrame, interventions: Sequence[tuple[int, str, float]]
) -> tuple[list[float], list[Marker]]:
    """Shock times (from the run's ``shock`` column) and numbered intervention markers, in years."""
    # the row for step t records a shock that happened during month t - 1 -> t
    shocks = (
        [(float(s) - 1.0) / 12.0 for s in frame.loc[frame["shock"] > 0, "step"]] if "shock" in frame else []
    )
    marks = [
        Marker(month / 12.0, f"{i + 1}. {INTERVENTION_LABELS.get(name, name)}")
        for i, (month, name, _value) in enumerate(interventions)
    ]
    return shocks, marks


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
) -> str:
    """Lines of ``columns`` over years, with shocks (dotted red) and interventions (dashed purple) marked."""
    x = frame["step"].to_numpy(dtype=float) / 12.0
    k = 100.0 if percent else 1.0
    series = [
        Series(
            lab,
            frame[col].to_numpy(dtype=float) * k,
            PALETTE[i % len(PALETTE)],
            3.2 if col in emphasise else 1.8,
        )
        for i, (col, lab) in enumerate(zip(columns, labels, strict=True))
    ]
    right_label = ""
    if twin is not None:
        col, lab = twin
        series.append(Series(lab, frame[col].to_numpy(dtype=float), "#555555", 1.6, dash="6,3", right=True))
        right_label = lab
    shocks, marks = event_marks(frame, interventions)
    return line_chart_svg(
        x,
        series,
        title,
        ylabel,
        xmax=xmax,
        ylim=ylim,
        markers=marks,
        shocks=shocks,
        right_label=right_label,
        big=big,
        height=330 if big else 280,
    )


def band_figure(bands: pd.DataFrame, metric_label: str, percent: bool = False) -> str:
    """Mean and 90% band over time for each scenario (``bands`` from :func:`civsim.app.comparison.bands`)."""
    k = 100.0 if percent else 1.0
    series, shaded = [], []
    x = np.array([])
    for i, (name, b) in enumerate(bands.groupby("scenario", sort=False)):
        colour = SCENARIO_COLOURS[i % len(SCENARIO_COLOURS)]
        x = b["step"].to_numpy(dtype=float) / 12.0
        shaded.append(Band(b["lo"].to_numpy(float) * k, b["hi"].to_numpy(float) * k, colour))
        series.append(Series(f"{name}", b["mean"].to_numpy(float) * k, colour, 2.4))
    return line_chart_svg(
        x,
        series,
        f"{metric_label}: mean and 90% band of replicates",
        metric_label + (" (%)" if percent else ""),
        bands=shaded,
        width=1100,
        height=360,
        css_class="civsim-chart civsim-bands",
    )
