"""Agents (``/agents``): the Mesa engine in Mesa's own SolaraViz.

This page is where Mesa's SolaraViz fits as it is: the agent-based
:class:`civsim.model.CivicModel` (citizens, networks, agencies and a council
as Mesa agents), Mesa's play/step/reset controller, its parameter inputs and
its DataCollector plots, plus the actor graph drawn from the agents
themselves. The other pages go beyond SolaraViz where users need more
(batch replicates, interventions, narratives).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import solara
from mesa.visualization import SolaraViz, make_plot_component

from civsim import inputs
from civsim import params as P
from civsim.app import common, drawings
from civsim.app.common import SvgView
from civsim.app.schema_ui import pretty_name
from civsim.model import CivicModel
from civsim.world import SECTORS

AGENT_CITIZENS = 500
"""Citizens on this page: every citizen is a Python object here, so keep it small."""
LEVERS = (
    "voice_weight",
    "coordination_benefit",
    "coproduction_openness",
    "mutual_aid",
    "outreach",
    "alliance_propensity",
    "austerity_rate",
)
"""One or two levers per strand, as SolaraViz inputs (the Explore page has them all)."""


class AgentViewModel(CivicModel):
    """CivicModel with keyword parameters, as SolaraViz re-creates models with ``Model(**params)``."""

    def __init__(
        self,
        preset: str = "baseline",
        seed: int | str = 0,
        scenario: Any = None,
        rng: Any = None,
        **overrides: Any,
    ):
        base = common.preset(preset)
        try:
            seed = int(str(seed).strip() or 0)
        except ValueError:
            seed = 0
        params = {**base.params, **overrides}
        if inputs.used_files(P.resolve(base.params)):  # per-citizen files fix the population
            params["n_citizens"] = base.params["n_citizens"]
        super().__init__(params, seed=seed)


def solaraviz_params(names: tuple[str, ...] = LEVERS, citizens: int = AGENT_CITIZENS) -> dict[str, Any]:
    """SolaraViz ``model_params`` generated from the schema."""
    out: dict[str, Any] = {
        "preset": {
            "type": "Select",
            "value": common.default_preset_name(),
            "values": common.preset_names(),
            "label": "Preset",
        },
        "seed": {"type": "InputText", "value": "0", "label": "Seed"},
        "n_citizens": {
            "type": "SliderInt",
            "value": citizens,
            "min": 100,
            "max": 3000,
            "step": 100,
            "label": "Citizens",
        },
    }
    for name in names:
        p = P.SCHEMA[name]
        label = f"{pretty_name(name)} ({p.unit})"
        if p.type == "float":
            span = (p.max or 1.0) - (p.min or 0.0)
            out[name] = {
                "type": "SliderFloat",
                "value": p.default,
                "min": p.min,
                "max": p.max,
                "step": round(span / 100, 6),
                "label": label,
            }
        elif p.type == "int":
            out[name] = {
                "type": "SliderInt",
                "value": p.default,
                "min": p.min,
                "max": p.max,
                "step": 1,
                "label": label,
            }
        elif p.type == "bool":
            out[name] = {"type": "Checkbox", "value": p.default, "label": label}
        elif p.type == "choice":
            out[name] = {"type": "Select", "value": p.default, "values": list(p.choices), "label": label}
    return out


def agent_graph(model: CivicModel):
    """The actor graph from the Mesa agents (a SolaraViz component)."""
    w = model.world
    alive = np.array([n is not None for n in model.slots])
    members = np.zeros(len(model.slots), dtype=int)
    for c in model.citizen_list:
        if c.member >= 0:
            members[c.member] += 1
    sector = np.array([a.sector for a in model.agency_list])
    svg, _ = drawings.actor_graph_svg(
        alive,
        w.net_hood,
        members,
        model.alliance_matrix()[0],
        model.coordination_matrix()[0],
        sector,
        SECTORS,
        model.dims.M,
    )
    return SvgView(svg, classes=["civsim-graph-view"])


def agent_map(model: CivicModel):
    m = model.metrics if getattr(model, "metrics", None) else {}
    df = model.datacollector.get_model_vars_dataframe()
    values = [
        float(df[f"outcome_hood_{h}"].iloc[-1]) if len(df) else float(m.get(f"outcome_hood_{h}", 0.0))
        for h in range(model.dims.M)
    ]
    start = [float(df[f"outcome_hood_{h}"].iloc[0]) for h in range(model.dims.M)] if len(df) else None
    return SvgView(drawings.neighbourhood_map_svg(values, start), classes=["civsim-map-view"])


@solara.component
def Agents():
    # created here, inside the page, so each browser session has its own model
    model = solara.use_memo(lambda: AgentViewModel(n_citizens=AGENT_CITIZENS), [])
    model_params = solara.use_memo(solaraviz_params, [])
    components = solara.use_memo(
        lambda: [
            make_plot_component(
                {
                    "outcome_index": "#1b4965",
                    "outcome_index_majority": "#2a9d8f",
                    "outcome_index_marginalised": "#e76f51",
                }
            ),
            make_plot_component({"engagement": "#6a4c93", "trust": "#e9c46a"}),
            make_plot_component({"networks": "#2a9d8f", "alliances": "#9b2226"}),
            (agent_graph, 0),
            (agent_map, 0),
        ],
        [],
    )
    solara.Title("civsim · Agents (Mesa)")
    SolaraViz(
        model,
        components=components,
        model_params=model_params,
        name="civsim agents (Mesa engine)",
        play_interval=150,
    )
