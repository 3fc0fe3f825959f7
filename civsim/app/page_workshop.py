# ruff: noqa: E501  (CSS, JavaScript and plotly figure literals read better unbroken)
"""Workshop (``/workshop``): large, step by step, live interventions, loops and the story."""

from __future__ import annotations

import solara

from civsim.app import common
from civsim.app.common import PlayButton, StatsBar, use_live
from civsim.app.live import intervention_size, intervention_text
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


SLIDER_NAMES = {
    "cut_budget": "Size of the budget cut",
    "shock_economic": "Size of the economic shock",
    "shock_environmental": "Size of the environmental shock",
    "convene": "Share of the budget for convening",
    "fund_networks": "Share of the budget for networks",
    "open_coproduction": "Openness to co-production",
}
"""Each intervention's size slider has its own name (screen readers list them by name)."""

WORKSHOP_CSS = """
.civsim-workshop-grid { display: grid; grid-template-columns: minmax(0, 430px) minmax(0, 1fr); gap: 12px;
  align-items: start; }
.civsim-workshop-grid > * { min-width: 0; }
.civsim-iv-grid { display: grid; grid-template-columns: 1fr 1fr; gap: 6px; }
.civsim-iv-grid .civsim-panel { padding: 4px 8px 0 8px !important; }
.civsim-iv-grid .v-input__control { min-height: 0; height: 26px; }
.civsim-iv-grid .v-slider { min-height: 26px; }
.civsim-workshop .civsim-stats { gap: 6px !important; }
.civsim-workshop h1 { font-size: 1.3rem !important; }
.civsim-workshop h2 { font-size: 1.2rem !important; margin: 2px 0 !important; }
.civsim-workshop .civsim-stat { min-width: 0; flex: 1 1 28%; padding: 3px 8px; }
.civsim-workshop .civsim-stat-label { font-size: 0.85rem; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.civsim-workshop .civsim-stat-value { font-size: 1.3rem; white-space: nowrap; }
.civsim-workshop .civsim-intervene.v-btn { min-height: 36px; font-size: 0.98rem !important; padding: 2px 8px !important; }
.civsim-workshop .civsim-run-controls .v-btn { min-height: 40px !important; height: 40px !important; padding: 0 10px;
  font-size: 1rem !important; }
.civsim-workshop .civsim-iv-grid .v-input { margin-top: 0; padding-top: 0; }
.civsim-workshop .civsim-iv-grid .v-input__slot { margin-bottom: 0; }
.civsim-workshop .civsim-iv-grid .v-messages { display: none; }
.civsim-workshop .civsim-iv-grid .v-label { position: absolute !important; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); }
.civsim-iv-size { font-size: 0.95rem; color: #1f2937; }
@media (max-width: 960px) {
  .civsim-workshop-grid { grid-template-columns: minmax(0, 1fr); }
}
@media (max-width: 600px) {
  .civsim-iv-grid { grid-template-columns: 1fr; }
}
"""


@solara.component
def InterventionButton(
    name: str, text: str, help_text: str, default: float, lo: float, hi: float, on_apply, disabled: bool
):
    """One intervention: the button says what it does and its size; the slider sets the size."""
    value, set_value = solara.use_state(default)
    size = intervention_size(name, value)
    with solara.Div(classes=["civsim-panel", f"civsim-iv-{name}"]):
        solara.Button(
            f"{text}: {size}",
            color="deep-purple",
            dark=True,
            on_click=lambda: on_apply(name, value),
            disabled=disabled,
            classes=["civsim-intervene", f"civsim-intervene-{name}"],
            style={"width": "100%"},
        )
        solara.SliderFloat(
            SLIDER_NAMES.get(name, name),
            value=value,
            on_value=set_value,
            min=lo,
            max=hi,
            step=0.01,
            thumb_label=False,
        )


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
    solara.Style(WORKSHOP_CSS)
    snap = ls.snapshot
    with solara.Column(gap="8px", classes=["civsim-big", "civsim-workshop"]):
        solara.HTML(tag="h1", unsafe_innerHTML="Workshop: how choices ripple through a locality")
        with solara.Div(classes=["civsim-workshop-grid"]):
            with solara.Column(gap="8px", classes=["civsim-workshop-controls"]):
                names = common.preset_names()
                values = names + (
                    [uploaded.name] if uploaded is not None and uploaded.name not in names else []
                )
                solara.Select(
                    "1 · Choose a story (scenario)",
                    values=values,
                    value=scenario.name,
                    on_value=pick,
                    dense=True,
                    classes=["civsim-preset"],
                )
                with solara.Row(gap="6px", style={"flex-wrap": "wrap"}, classes=["civsim-run-controls"]):
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
                if snap is not None:
                    StatsBar(snap)
                solara.HTML(tag="h2", unsafe_innerHTML="2 · Intervene while it runs")
                with solara.Div(classes=["civsim-iv-grid"]):
                    for name, text, help_text, default, lo, hi in INTERVENTIONS:
                        InterventionButton(
                            name, text, help_text, default, lo, hi, ls.intervene, ls.live is None
                        ).key(name)
                with solara.Details("What each intervention does"):
                    for _name, text, help_text, *_ in INTERVENTIONS:
                        solara.Text(
                            f"{text}: {help_text}", classes=["civsim-help"], style={"display": "block"}
                        )
            with solara.Column(gap="6px", classes=["civsim-workshop-main"]):
                if snap is not None:
                    OutcomePlots(snap, run_id=id(ls.live), big=True, which=("main",), horizon=horizon)
                    if snap.interventions:
                        done = "; ".join(
                            f"{i + 1}. {intervention_text(n, v)} (month {m})"
                            for i, (m, n, v) in enumerate(snap.interventions)
                        )
                        solara.Text(
                            f"Interventions so far: {done}",
                            classes=["civsim-iv-list"],
                            style={"font-size": "1.1rem", "display": "block"},
                        )
                solara.Text(scenario.description, style={"font-size": "1.05rem", "display": "block"})
        if snap is None:
            return
        solara.HTML(tag="h2", unsafe_innerHTML="3 · See what happened, and why")
        with solara.lab.Tabs(value=tab, on_value=set_tab, grow=True):
            solara.lab.Tab("What happened")
            solara.lab.Tab("System of challenges")
            solara.lab.Tab("The story, year by year")
        if tab == 0:
            with solara.Div(classes=["civsim-row"]):
                OutcomePlots(
                    snap, run_id=id(ls.live), big=True, which=("domain", "engagement"), horizon=horizon
                )
                with solara.Column():
                    solara.HTML(tag="h2", unsafe_innerHTML="Latest year")
                    Story(snap)
        elif tab == 1:
            ChallengeDiagram(snap, big=True)
        else:
            Story(snap, newest_first=False)
        with solara.Details("Load your own scenario file"):
            ScenarioUpload(on_upload).key("upload")
