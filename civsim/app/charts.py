"""Interactive charts: plotly.js figures drawn by a thin Vue widget.

The pages build plotly.js figures as plain JSON-able dicts (see
:mod:`civsim.app.plots`) and hand them to :func:`PlotlyChart`. The browser
draws them with plotly.js (hover values, legend toggling, zoom and pan, PNG
export from the mode bar) and updates them in place with ``Plotly.react``,
so a live run keeps the user's zoom and hidden series from frame to frame.

plotly.js is the bundle shipped inside the ``plotly`` Python package. It is
served from Solara's asset cache (``<venv>/share/solara/cdn``, where
``scripts/install_solara_assets.py`` copies it), so charts render with no
internet; with internet and no cached copy Solara fetches the same file from
its CDN proxy.

Why not ``solara.FigurePlotly``: it needs plotly's anywidget, which sends the
5 MB plotly.js bundle over the websocket once per chart (15 MB for three
charts, 11 s to the first chart here). Why not ``solara.FigureAltair``: its
widget re-embeds the whole chart on each update, losing zoom every frame.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Any

import ipyvuetify as v
import solara
import traitlets

PLOTLY_PACKAGE = "plotly.js-dist-min"
"""The npm name the bundle is cached under (the CDN proxy serves the same file)."""


@functools.lru_cache(maxsize=1)
def plotly_bundle() -> Path:
    """Path of ``plotly.min.js`` inside the installed ``plotly`` Python package."""
    import importlib.util

    spec = importlib.util.find_spec("plotly")
    if spec is None or spec.origin is None:
        raise RuntimeError("the plotly package is not installed (pip install plotly)")
    return Path(spec.origin).parent / "package_data" / "plotly.min.js"


@functools.lru_cache(maxsize=1)
def plotly_js_version() -> str:
    """The plotly.js version of the bundle (read from its header comment)."""
    with open(plotly_bundle(), encoding="utf-8") as fh:
        head = fh.read(400)
    m = re.search(r"plotly\.js v(\d+\.\d+\.\d+)", head)
    if m is None:
        raise RuntimeError(f"cannot read the plotly.js version from {plotly_bundle()}")
    return m.group(1)


class PlotlyWidget(v.VuetifyTemplate):
    """The Vue side of :func:`PlotlyChart` (``vue/plotly_chart.vue``)."""

    template_file = os.path.join(os.path.dirname(__file__), "vue", "plotly_chart.vue")
    figure = traitlets.Dict().tag(sync=True)
    label = traitlets.Unicode("chart").tag(sync=True)
    plotly_version = traitlets.Unicode("").tag(sync=True)
    revision = traitlets.Int(0).tag(sync=True)


@solara.component
def PlotlyChart(figure: dict[str, Any], label: str, revision: int = 0, classes: list[str] | None = None):
    """A plotly.js chart. ``label`` names it for screen readers; ``revision`` is
    copied to the element's ``data-revision`` after each draw (for tests)."""
    return PlotlyWidget.element(
        figure=figure,
        label=label,
        plotly_version=plotly_js_version(),
        revision=int(revision),
        class_=" ".join(["civsim-chart", *(classes or [])]),
    )
