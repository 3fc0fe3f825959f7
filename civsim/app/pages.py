"""The app's routes: Explore (``/``), Compare (``/compare``), Workshop (``/workshop``)
and Agents (``/agents``, Mesa's SolaraViz on the agent-based engine).

Served by ``civsim app`` (see :mod:`civsim.app.server`), which runs
``solara run civsim.app.pages``. Nothing here holds model state: each page
component builds its own, so every browser session is separate.
"""

from __future__ import annotations

import solara
import solara.server.settings

from civsim.app.common import APP_TITLE, PAGE_CSS, one_line
from civsim.app.page_agents import Agents
from civsim.app.page_compare import Compare
from civsim.app.page_explore import Explore
from civsim.app.page_join import Join  # workshop rooms (issue 14)
from civsim.app.page_room import Room  # workshop rooms (issue 14)
from civsim.app.page_setup import PageSetup
from civsim.app.page_strategy import Strategy
from civsim.app.page_workshop import Workshop

# Solara's "This website runs on Solara" badge sits over the pages' controls
solara.server.settings.theme.show_banner = False

NAV = [("/", "Explore"), ("/compare", "Compare"), ("/workshop", "Workshop"), ("/agents", "Agents")]
"""The navigation bar: (path, label). A new page adds one entry here (or in MORE) and one Route below."""
MORE = [("/strategy", "Strategy lab"), ("/room", "Host a room"), ("/join", "Join a room")]
"""Pages behind the bar's "more" menu (the bar keeps four buttons, so it fits a phone)."""


@solara.component
def Guard(children=[]):  # noqa: B006
    """An error boundary: a failure while drawing a page shows one line, never a traceback."""
    exc, clear = solara.use_exception()
    if exc is not None:
        with solara.Column(classes=["civsim-page-error"]):
            solara.Error(f"Something went wrong on this page: {one_line(exc)}")
            solara.Button("Try again", on_click=clear, color="primary")
        return
    solara.Div(children=children)


@solara.component
def Layout(children=[]):  # noqa: B006 (solara's layout signature)
    route_current, routes = solara.use_route()
    solara.Style(PAGE_CSS)
    PageSetup.element()
    with solara.AppLayout(
        children=[Guard(children=children)], navigation=False, title=APP_TITLE, color="#1b4965"
    ):
        with solara.AppBar():
            with solara.Row(gap="4px", classes=["civsim-nav"]):
                for path, label in NAV:
                    current = route_current is not None and ("/" + route_current.path.lstrip("/")) == path
                    with solara.Link(path):
                        solara.Button(
                            label,
                            text=not current,
                            outlined=current,
                            dark=True,
                            classes=[f"civsim-nav-{label.split()[0].lower()}"],
                        )
                more = solara.Button(
                    icon_name="mdi-dots-vertical",
                    icon=True,
                    dark=True,
                    classes=["civsim-nav-more"],
                )
                with solara.lab.Menu(activator=more, use_activator_width=False):
                    with solara.Column(gap="0px", classes=["civsim-nav-menu"]):
                        for path, label in MORE:
                            with solara.Link(path):
                                solara.Button(label, text=True, classes=[f"civsim-nav-{path.strip('/')}"])


routes = [
    solara.Route(path="/", component=Explore, label="Explore", layout=Layout),
    solara.Route(path="compare", component=Compare, label="Compare"),
    solara.Route(path="workshop", component=Workshop, label="Workshop"),
    solara.Route(path="agents", component=Agents, label="Agents"),
    solara.Route(path="strategy", component=Strategy, label="Strategy"),
    solara.Route(path="room", component=Room, label="Room"),
    solara.Route(path="join", component=Join, label="Join"),
]
