"""Views of a live run shared by Explore and Workshop: plots, map, actor graph, CLD, story."""

from __future__ import annotations

import functools
import html

import solara

from civsim.app import drawings, plots
from civsim.app.charts import PlotlyChart
from civsim.app.common import SvgView, safe_draw
from civsim.app.live import Snapshot
from civsim.app.narrative import narrate


def _key(snap: Snapshot, big: bool, run_id: int) -> tuple:
    return (run_id, snap.month, len(snap.interventions), big)


@solara.component
def Chart(make, key: tuple, ref: str, label: str = ""):
    """An interactive chart (plotly.js), its figure rebuilt only when ``key`` changes."""
    fig, err = solara.use_memo(lambda: safe_draw(make), [key])
    with solara.Div(classes=["civsim-panel", f"civsim-plot-{ref}"]):
        if err:
            solara.Error(err)
        elif fig is not None:
            title = fig.get("layout", {}).get("title", {}).get("text", ref)
            PlotlyChart(fig, label or f"Chart: {title}", revision=hash(key) & 0xFFFFFFF)


def outcome_figures(
    snap: Snapshot, big: bool, which: tuple[str, ...], horizon: int | None = None, run_id: int = 0
) -> list[tuple[str, object]]:
    """(ref, figure factory) for each live chart asked for in ``which``."""
    f, iv, groups = snap.frame, snap.interventions, list(snap.groups)
    common = {"interventions": iv, "big": big, "xmax": (horizon or 0) / 12.0, "uirevision": run_id}
    specs = {
        "domain": lambda: plots.line_figure(
            f,
            ["outcome_index"] + [f"outcome_{d}" for d in snap.domains],
            ["index (all)"] + list(snap.domains),
            "Valued-outcome index by domain",
            "index (0-1)",
            emphasise=["outcome_index"],
            **common,
        ),
        "main": lambda: plots.line_figure(
            f,
            ["outcome_index"] + [f"outcome_index_{g}" for g in groups],
            ["everyone"] + groups,
            "Valued-outcome index: everyone and by group",
            "index (0-1)",
            emphasise=["outcome_index"],
            twin=("inclusion_gap", "inclusion gap"),
            **common,
        ),
        "group": lambda: plots.line_figure(
            f,
            [f"outcome_index_{g}" for g in groups],
            groups,
            "Outcome index by group (and inclusion gap)",
            "index (0-1)",
            twin=("inclusion_gap", "inclusion gap"),
            **common,
        ),
        "engagement": lambda: plots.line_figure(
            f,
            ["engagement"] + [f"engagement_{g}" for g in groups] + ["trust", "coordination_density"],
            ["engagement (all)"] + [f"engagement, {g}" for g in groups] + ["trust", "agency coordination"],
            "Engagement, trust and coordination",
            "share / index",
            ylim=(0, 1),
            **common,
        ),
        "budget": lambda: plots.line_figure(
            f,
            ["budget"],
            ["council budget (per citizen per year)"],
            "Budget and value for money",
            "budget",
            twin=("gain_per_spend", "outcome gain per unit spent"),
            **common,
        ),
    }
    return [(ref, specs[ref]) for ref in which if ref in specs]


@solara.component
def OutcomePlots(
    snap: Snapshot,
    run_id: int,
    big: bool = False,
    which: tuple[str, ...] = ("domain", "group", "engagement", "budget"),
    horizon: int | None = None,
):
    """Live plots: the valued-outcome index by domain and by group (with the
    inclusion gap), engagement and trust, and the budget. Shocks (dotted red)
    and interventions (dashed purple, numbered) are marked."""
    k = _key(snap, big, run_id)
    figs = outcome_figures(snap, big, which, horizon, run_id)
    # side by side where there is room, one under the other on narrow screens
    with solara.Div(classes=["civsim-row", "civsim-charts"] + (["civsim-charts-big"] if big else [])):
        for ref, make in figs:
            Chart(make, k + (ref, horizon), ref)


@solara.component
def MapAndGraph(snap: Snapshot, big: bool = False):
    start = [float(snap.frame[f"outcome_hood_{m}"].iloc[0]) for m in range(snap.n_hoods)]
    map_svg, map_err = safe_draw(lambda: drawings.neighbourhood_map_svg(snap.hood_values(), start, big=big))
    graph, graph_err = safe_draw(
        lambda: drawings.actor_graph_svg(
            snap.alive,
            snap.net_hood,
            snap.net_members,
            snap.ally,
            snap.coord,
            snap.sector,
            snap.sectors,
            snap.n_hoods,
            big=big,
        )
    )
    with solara.Div(classes=["civsim-row"]):
        with solara.Div(classes=["civsim-panel"]):
            solara.Text(
                "Neighbourhoods: outcome index now",
                style={"display": "block", "font-weight": "bold", "font-size": "1.1rem"},
            )
            if map_err:
                solara.Error(map_err)
            else:
                SvgView(map_svg, classes=["civsim-map-view"])
        with solara.Div(classes=["civsim-panel"]):
            solara.Text(
                "Alliances and coordination: citizen networks "
                "(outer ring), agencies (inner), council (centre)",
                style={"display": "block", "font-weight": "bold", "font-size": "1.1rem"},
            )
            if graph_err:
                solara.Error(graph_err)
            else:
                svg, counts = graph
                SvgView(svg, classes=["civsim-graph-view"])


def _challenge_structure(domains: tuple[str, ...], cross_impact) -> tuple[dict, list]:
    edges = drawings.challenge_edges(domains, cross_impact)
    return edges, drawings.find_loops(edges, 3)


@functools.lru_cache(maxsize=2)
def _actor_loops_svg(big: bool) -> str:
    """The actors' loops diagram (fixed: drawn once per server)."""
    loops = drawings.find_loops(drawings.ACTOR_LOOP_EDGES, 5)
    return drawings.cld_svg(drawings.ACTOR_LOOP_NODES, drawings.ACTOR_LOOP_EDGES, big=big, loops=loops)


@solara.component
def ChallengeDiagram(snap: Snapshot, big: bool = False, show_actor_loops: bool = True):
    """The system of challenges as a causal-loop diagram, plus the actors' loops."""
    # the links and loops depend only on the run's cross-impact matrix: found once per run
    edges, loops = solara.use_memo(
        lambda: _challenge_structure(snap.domains, snap.cross_impact),
        [snap.domains, snap.cross_impact.tobytes()],
    )
    levels = {d: round(v, 2) for d, v in snap.domain_values().items()}  # as shown: redraw when they change
    svg, err = solara.use_memo(
        lambda: safe_draw(lambda: drawings.cld_svg(list(snap.domains), edges, levels, big=big, loops=loops)),
        [repr(sorted(levels.items())), len(edges), big],
    )
    with solara.Div(classes=["civsim-row"]):
        with solara.Div(classes=["civsim-panel", "civsim-cld-challenges"]):
            solara.Text(
                "The system of challenges",
                style={"display": "block", "font-weight": "bold", "font-size": "1.3rem" if big else "1.1rem"},
            )
            solara.Text(
                "Progress in one domain helps (+, green) or hinders "
                "(−, red) another; thicker arrows are stronger "
                "links (scaled by the interdependence parameter). Circles show each domain's outcome now. "
                "R = reinforcing loop, B = balancing loop.",
                style={"display": "block", "font-size": "1rem" if big else "0.85rem", "margin-bottom": "6px"},
            )
            if err:
                solara.Error(err)
            else:
                SvgView(svg, classes=["civsim-cld-view"], max_width="640px")
        if show_actor_loops:
            with solara.Div(classes=["civsim-panel", "civsim-cld-actors"]):
                solara.Text(
                    "How the actors' loops work",
                    style={
                        "display": "block",
                        "font-weight": "bold",
                        "font-size": "1.3rem" if big else "1.1rem",
                    },
                )
                solara.Text(
                    "The model's feedback loops: trust and co-production "
                    "reinforce each other; burnout balances "
                    "engagement; networks recruit; allied networks "
                    "shift the agenda; cuts lower trust and are taken "
                    "from coordination first.",
                    style={
                        "display": "block",
                        "font-size": "1rem" if big else "0.85rem",
                        "margin-bottom": "6px",
                    },
                )
                SvgView(_actor_loops_svg(big), max_width="640px")


@solara.component
def Story(snap: Snapshot, newest_first: bool = True):
    """The plain-language narrative of the run so far, one card per year."""
    stories = solara.use_memo(
        lambda: narrate(snap.frame, snap.interventions, snap.domains, snap.groups),
        [snap.month, len(snap.interventions)],
    )
    with solara.Div(classes=["civsim-story"]):
        if not stories:
            solara.Text("Run the model: the story of each year appears here.", style={"font-size": "1.15rem"})
        items = list(reversed(stories)) if newest_first else stories
        for st in items:
            with solara.Div(classes=["civsim-panel", "civsim-year"], style={"margin-bottom": "10px"}):
                solara.HTML(tag="p", unsafe_innerHTML=f"<b>{html.escape(st.headline)}</b>")
                for s in st.sentences:
                    solara.HTML(tag="p", unsafe_innerHTML=html.escape(s))
                for s in st.why:
                    solara.HTML(tag="p", unsafe_innerHTML=f"<i>{html.escape(s)}</i>")
