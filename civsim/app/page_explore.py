"""Explore (``/``): one run, every parameter, live plots, map and actor graph."""

from __future__ import annotations

from typing import Any

import solara

from civsim import params as P
from civsim.app import common
from civsim.app.common import PlayButton, StatsBar, use_live
from civsim.app.page_setup import DrawerClose
from civsim.app.schema_ui import ParamControls, parse_seed
from civsim.app.upload import ScenarioUpload
from civsim.app.views import ChallengeDiagram, MapAndGraph, OutcomePlots
from civsim.scenario import Scenario

SPEEDS = {"1 month": 1, "3 months": 3, "1 year": 12}
DEFAULT_SPEED = "1 year"
"""Redraw yearly by default: a 10-year run is 10 frames (monthly frames spend most of the time redrawing)."""


@solara.component
def ScenarioPicker(name: str, on_pick, uploaded: Scenario | None, on_upload, big: bool = False):
    """Choose a preset (or keep an uploaded scenario) and say what it shows."""
    names = common.preset_names()
    values = names + ([uploaded.name] if uploaded is not None and uploaded.name not in names else [])
    solara.Select("Scenario", values=values, value=name, on_value=on_pick, classes=["civsim-preset"])
    chosen = uploaded if uploaded is not None and uploaded.name == name else common.preset(name)
    solara.Text(
        chosen.description or "", style={"font-size": "1.1rem" if big else "0.85rem", "color": "#333"}
    )
    ScenarioUpload(on_upload).key("upload")


@solara.component
def Explore():
    """Scenario and parameters (sidebar); the run itself is :func:`ExploreRun`, so
    the sidebar is not redrawn on every frame of a playing run."""
    first = common.preset(common.default_preset_name())
    scenario_name, set_scenario_name = solara.use_state(first.name)
    uploaded, set_uploaded = solara.use_state(None)
    edited, set_edited = solara.use_state(dict(first.params))
    applied, set_applied = solara.use_state(dict(first.params))
    # the seed, like the parameters, is typed into the sidebar and applied by Reset during a run
    seed_text, set_seed_text = solara.use_state(str(int(first.seed)))
    seed, set_seed = solara.use_state(int(first.seed))
    horizon, set_horizon = solara.use_state(int(first.steps))
    run_generation, set_run_generation = solara.use_state(0)
    started = solara.use_ref(False)  # set by ExploreRun: has the current run moved past month 0?

    def load(s: Scenario):
        set_scenario_name(s.name)
        set_edited(dict(s.params))
        set_applied(dict(s.params))
        set_seed(int(s.seed))
        set_seed_text(str(int(s.seed)))
        set_horizon(int(s.steps))
        set_run_generation(lambda g: g + 1)

    def on_pick(name: str):
        if uploaded is not None and name == uploaded.name:
            load(uploaded)
        else:
            load(common.preset(name))

    def on_upload(s: Scenario):
        set_uploaded(s)
        load(s)

    def on_param(name: str, value: Any):
        new = {**edited, name: value}
        set_edited(new)
        if not started.current:
            set_applied(new)

    try:
        typed_seed, seed_error = parse_seed(seed_text), None
    except ValueError as exc:
        typed_seed, seed_error = seed, str(exc)

    def on_seed(text: str):
        set_seed_text(text)
        try:
            new = parse_seed(text)
        except ValueError:
            return  # shown under the box; the run keeps its seed
        if not started.current:
            set_seed(new)

    def apply_and_reset():
        set_applied(dict(edited))
        set_seed(typed_seed)
        set_run_generation(lambda g: g + 1)

    values = {**P.defaults(), **edited}
    solara.Title("civsim · Explore")
    with solara.Sidebar():
        with solara.Column(gap="8px", classes=["civsim-sidebar"]):
            DrawerClose.element()
            ScenarioPicker(scenario_name, on_pick, uploaded, on_upload)
            with solara.Row(gap="8px"):
                solara.InputText(
                    "Seed",
                    value=seed_text,
                    on_value=on_seed,
                    dense=True,
                    error=seed_error is not None,
                    continuous_update=True,
                )
            if seed_error:
                solara.Error(seed_error, dense=True, classes=["civsim-seed-error"])
            solara.SliderInt(
                f"Run for {horizon} months", value=horizon, on_value=set_horizon, min=12, max=480, step=12
            )
            solara.Text("Parameters, grouped by the six strands", style={"font-weight": "bold"})
            ParamControls(values, on_param)
    pending = edited != applied or (seed_error is None and typed_seed != seed)
    ExploreRun(applied, seed, horizon, pending, apply_and_reset, started, run_generation)


@solara.component
def ExploreRun(
    applied: dict, seed: int, horizon: int, pending: bool, apply_and_reset, started, run_generation: int
):
    """Controls, headline numbers, live plots, map, actor graph and the system of challenges."""
    speed, set_speed = solara.use_state(DEFAULT_SPEED)
    ls = use_live(applied, seed, horizon, SPEEDS[speed], generation=run_generation)
    started.current = ls.live is not None and (ls.live.month > 0 or ls.playing)

    def reset():
        ls.reset()
        apply_and_reset()

    with solara.Column(gap="12px", classes=["civsim-explore"]):
        solara.HTML(tag="h1", unsafe_innerHTML="Explore: what happens if…")
        with solara.Row(
            gap="8px", style={"flex-wrap": "wrap", "align-items": "center"}, classes=["civsim-controls"]
        ):
            PlayButton(ls, horizon, "Run")
            solara.Button(
                "Step",
                icon_name="mdi-step-forward",
                on_click=lambda: ls.step(1),
                disabled=ls.live is None or ls.playing,
                classes=["civsim-step"],
            )
            solara.Button(
                "+1 year",
                on_click=lambda: ls.step(12),
                disabled=ls.live is None or ls.playing,
                classes=["civsim-year"],
            )
            solara.Button("Reset", icon_name="mdi-restart", on_click=reset, classes=["civsim-reset"])
            with solara.Div(style={"width": "160px"}):
                solara.Select(
                    "Redraw every", values=list(SPEEDS), value=speed, on_value=set_speed, dense=True
                )
        if pending:
            solara.Warning(
                "Parameters or seed changed during the run: press Reset to start a new run with them.",
                classes=["civsim-pending"],
                dense=True,
            )
        if ls.error:
            solara.Error(ls.error, classes=["civsim-error"])
            return
        if ls.message:
            solara.Error(ls.message, classes=["civsim-error"])
        snap = ls.snapshot
        if snap is None:
            return
        StatsBar(snap)
        if ls.playing:
            solara.ProgressLinear(value=100 * snap.month / max(1, horizon))
        if snap.interventions or len(snap.frame) > 1:
            solara.Text(
                "Charts: hover for values, click a legend entry to hide it (double-click: only it), "
                "drag to zoom, camera icon for a PNG.",
                style={"font-size": "0.85rem", "color": "#374151"},
            )
        OutcomePlots(snap, run_id=id(ls.live), horizon=horizon)
        MapAndGraph(snap)
        with solara.Details("The system of challenges (causal-loop diagram)"):
            ChallengeDiagram(snap)
