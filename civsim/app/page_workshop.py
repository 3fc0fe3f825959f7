"""Workshop (``/workshop``): large, step by step, live interventions, loops and the story."""

from __future__ import annotations

import solara

from civsim.app import common
from civsim.app.common import PlayButton, StatsBar, use_live
from civsim.app.live import INTERVENTION_LABELS
from civsim.app.upload import ScenarioUpload
from civsim.app.views import ChallengeDiagram, OutcomePlots, Story
from civsim.scenario import Scenario

WORKSHOP_CITIZENS = 1500
"""Citizens in a workshop run: small enough to step instantly on a laptop."""

INTERVENTIONS: list[tuple[str, str, str, float, float, float]] = [
    # name, button text, what it does, default, min, max
    (
        "cut_budget",
        "Cut the budget now",
        "Cut the council's budget by this share from now on.",
        0.10,
        0.01,
        0.5,
    ),
    (
        "shock_economic",
        "Economic shock",
        "Hit every neighbourhood's jobs, housing and health.",
        0.20,
        0.05,
        0.6,
    ),
    (
        "shock_environmental",
        "Environmental shock",
        "A flood or heatwave: environment, housing, transport.",
        0.20,
        0.05,
        0.6,
    ),
    (
        "convene",
        "Convene a partnership",
        "Spend this share of the budget bringing agencies together.",
        0.05,
        0.01,
        0.2,
    ),
    (
        "fund_networks",
        "Fund citizen networks",
        "Grant this share of the budget to citizen networks.",
        0.05,
        0.01,
        0.2,
    ),
    (
        "open_coproduction",
        "Open agencies to co-production",
        "Set every agency's openness to citizens' effort.",
        0.8,
        0.0,
        1.0,
    ),
]


@solara.component
def InterventionButton(
    name: str, text: str, help_text: str, default: float, lo: float, hi: float, on_apply, disabled: bool
):
    value, set_value = solara.use_state(default)
    unit = "" if name == "open_coproduction" or name.startswith("shock") else f" ({round(100 * value)}%)"
    with solara.Div(classes=["civsim-panel", f"civsim-iv-{name}"], style={"padding": "10px"}):
        solara.Button(
            f"{text}{unit}",
            color="deep-purple",
            dark=True,
            on_click=lambda: on_apply(name, value),
            disabled=disabled,
            classes=["civsim-intervene", f"civsim-intervene-{name}"],
            style={"width": "100%"},
        )
        solara.Text(help_text, style={"font-size": "1rem", "color": "#444"})
        solara.SliderFloat("strength", value=value, on_value=set_value, min=lo, max=hi, step=0.01)


@solara.component
def Workshop():
    first = common.preset(common.default_preset_name())
    scenario, set_scenario = solara.use_state(first)
    uploaded, set_uploaded = solara.use_state(None)
    seed, set_seed = solara.use_state(int(first.seed))
    tab, set_tab = solara.use_state(0)
    overrides = {**scenario.params, "n_citizens": scenario.params.get("n_citizens", WORKSHOP_CITIZENS)}
    horizon = int(scenario.steps)
    ls = use_live(overrides, seed, horizon, 1, frame_delay=0.4)

    def pick(name: str):
        if uploaded is not None and name == uploaded.name:
            set_scenario(uploaded)
        else:
            set_scenario(common.preset(name))
        ls.reset()

    def on_upload(s: Scenario):
        set_uploaded(s)
        set_scenario(s)
        set_seed(int(s.seed))
        ls.reset()

    solara.Title("civsim · Workshop")
    with solara.Column(gap="14px", classes=["civsim-big", "civsim-workshop"]):
        solara.HTML(tag="h1", unsafe_innerHTML="Workshop: how choices ripple through a locality")
        with solara.Columns([1, 2]):
            with solara.Div(classes=["civsim-panel"], style={"padding": "14px"}):
                solara.HTML(tag="h2", unsafe_innerHTML="1 · Choose a story")
                names = common.preset_names()
                values = names + (
                    [uploaded.name] if uploaded is not None and uploaded.name not in names else []
                )
                solara.Select(
                    "Scenario", values=values, value=scenario.name, on_value=pick, classes=["civsim-preset"]
                )
                solara.Text(scenario.description, style={"font-size": "1.2rem"})
                with solara.Details("Load your own scenario file"):
                    ScenarioUpload(on_upload)
            with solara.Div(classes=["civsim-panel"], style={"padding": "14px"}):
                solara.HTML(tag="h2", unsafe_innerHTML="2 · Run it, a month or a year at a time")
                with solara.Row(gap="10px", style={"flex-wrap": "wrap"}):
                    PlayButton(ls, horizon, "Play")
                    solara.Button(
                        "+1 month",
                        on_click=lambda: ls.step(1),
                        disabled=ls.live is None or ls.playing,
                        color="primary",
                        outlined=True,
                        classes=["civsim-step"],
                    )
                    solara.Button(
                        "+1 year",
                        on_click=lambda: ls.step(12),
                        disabled=ls.live is None or ls.playing,
                        color="primary",
                        outlined=True,
                        classes=["civsim-year"],
                    )
                    solara.Button(
                        "Start again", icon_name="mdi-restart", on_click=ls.reset, classes=["civsim-reset"]
                    )
                if ls.error:
                    solara.Error(ls.error, classes=["civsim-error"])
                if ls.message:
                    solara.Error(ls.message, classes=["civsim-error"])
                if ls.snapshot is not None:
                    StatsBar(ls.snapshot)

        solara.HTML(tag="h2", unsafe_innerHTML="3 · Intervene while it runs")
        solara.Text(
            "Each intervention is marked on the plots (dashed purple line, numbered) and told in the story.",
            style={"font-size": "1.1rem"},
        )
        with solara.Columns([1, 1, 1]):
            for name, text, help_text, default, lo, hi in INTERVENTIONS:
                InterventionButton(name, text, help_text, default, lo, hi, ls.intervene, ls.live is None).key(
                    name
                )
        snap = ls.snapshot
        if snap is None:
            return
        if snap.interventions:
            done = "; ".join(
                f"{i + 1}. {INTERVENTION_LABELS.get(n, n)} (month {m})"
                for i, (m, n, _) in enumerate(snap.interventions)
            )
            solara.Text(
                f"Interventions so far: {done}", classes=["civsim-iv-list"], style={"font-size": "1.1rem"}
            )

        solara.HTML(tag="h2", unsafe_innerHTML="4 · See what happened, and why")
        with solara.lab.Tabs(value=tab, on_value=set_tab, grow=True):
            solara.lab.Tab("What happened")
            solara.lab.Tab("System of challenges")
            solara.lab.Tab("The story, year by year")
        if tab == 0:
            with solara.Columns([3, 2]):
                OutcomePlots(
                    snap,
                    run_id=id(ls.live),
                    big=True,
                    which=("domain", "group", "engagement"),
                    horizon=horizon,
                )
                with solara.Column():
                    solara.HTML(tag="h2", unsafe_innerHTML="Latest year")
                    Story(snap)
        elif tab == 1:
            ChallengeDiagram(snap, big=True)
        else:
            Story(snap, newest_first=False)
