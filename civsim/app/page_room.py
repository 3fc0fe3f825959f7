# ruff: noqa: E501  (HTML, labels and sentences read better unbroken)
"""Host a workshop room (``/room``): the trainer's projector screen.

Pick a story (a preset or an uploaded scenario) and the seats to offer, open
the room, and put the code, link and QR code on the projector. The screen
then shows who joined and who has decided, the locality's big picture and the
story of each year; the debrief tab shows every decision against the outcome
curves, replays the decisions with other seeds, compares with no one deciding,
and exports the session (``civsim run scenario.toml --decisions
decisions.toml`` reproduces it).
"""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import urlencode

import solara

from civsim.app import common
from civsim.app.room_views import (
    ROOM_CSS,
    bars_html,
    decisions_html,
    esc,
    graph_html,
    headline_html,
    qr_svg,
    replay_summary,
    seats_html,
    story_html,
    timeline_figure,
    use_room_updates,
)
from civsim.app.upload import ScenarioUpload
from civsim.app.views import Chart
from civsim.rooms.registry import MAX_ROUNDS, REGISTRY, RoomError
from civsim.rooms.seats import MAX_AGENCY_SEATS, MAX_NETWORK_SEATS
from civsim.scenario import Scenario

TIMERS = {"off": None, "1 min": 60, "2 min": 120, "3 min": 180, "5 min": 300}


def _default_base() -> str:
    """``http://<host the trainer's browser used>``; the trainer can edit it to an address phones reach."""
    try:
        headers = solara.lab.headers.value or {}
        host = (headers.get("host") or [""])[0]
    except Exception:
        host = ""
    return f"http://{host}" if host else "http://127.0.0.1:8765"


def host_left_html(view) -> str:
    """Who sits where, the headline and the bars (the host's left column), drawn once per view."""
    return (
        f'<div class="civsim-host-seats">{view.drawn("seats", seats_html)}</div>'
        f'<div class="civsim-host-headline">{view.drawn("headline", headline_html, shared=True)}</div>'
        f"<div>{view.drawn('bars', bars_html, shared=True)}</div>"
    )


@solara.component
def Room():
    hosting, set_hosting = solara.use_state(None)
    solara.Title("civsim · Workshop room")
    solara.Style(ROOM_CSS)
    with solara.Column(classes=["civsim-room", "civsim-big"], gap="12px"):
        if hosting is None:
            CreateRoom(set_hosting)
        else:
            HostRoom(hosting[0], hosting[1], lambda: set_hosting(None))


@solara.component
def CreateRoom(on_open):
    first = common.preset(common.default_preset_name())
    scenario, set_scenario = solara.use_state(first)
    uploaded, set_uploaded = solara.use_state(None)
    council, set_council = solara.use_state(True)
    agencies, set_agencies = solara.use_state("3")
    networks, set_networks = solara.use_state("2")
    panel, set_panel = solara.use_state(True)
    rounds, set_rounds = solara.use_state("5")
    error, set_error = solara.use_state("")
    re_code, set_re_code = solara.use_state("")
    re_key, set_re_key = solara.use_state("")

    def pick(name: str):
        set_scenario(uploaded if uploaded is not None and name == uploaded.name else common.preset(name))

    def on_upload(s: Scenario):
        set_uploaded(s)
        set_scenario(s)

    def open_room():
        offer = {
            "council": int(council),
            "agency": int(agencies),
            "network": int(networks),
            "panel": int(panel),
        }
        try:
            code, host = REGISTRY.create(scenario, offer, int(rounds))
        except RoomError as exc:
            set_error(str(exc))
            return
        on_open((code, host))

    def reopen():
        try:
            room = REGISTRY.get(re_code)
            room.check_host(re_key.strip())
        except RoomError as exc:
            set_error(str(exc))
            return
        on_open((room.code, re_key.strip()))

    solara.HTML(tag="h1", unsafe_innerHTML="Workshop room: many people, one locality")
    with solara.Columns([1, 1]):
        with solara.Div(classes=["civsim-panel"], style={"padding": "14px"}):
            solara.HTML(tag="h2", unsafe_innerHTML="1 · The story")
            names = common.preset_names()
            values = names + ([uploaded.name] if uploaded is not None and uploaded.name not in names else [])
            solara.Select(
                "Scenario", values=values, value=scenario.name, on_value=pick, classes=["civsim-room-preset"]
            )
            solara.Text(scenario.description)
            with solara.Details("Load your own scenario file"):
                ScenarioUpload(on_upload, key_prefix="room-upload")
        with solara.Div(classes=["civsim-panel"], style={"padding": "14px"}):
            solara.HTML(tag="h2", unsafe_innerHTML="2 · The seats")
            solara.Switch(label="Council leader", value=council, on_value=set_council)
            solara.Select("Agency heads (by sector)", values=["0"] + [str(i) for i in range(2, MAX_AGENCY_SEATS + 1)],
                          value=agencies, on_value=set_agencies, classes=["civsim-room-agencies"])  # fmt: skip
            solara.Select("Network organisers", values=[str(i) for i in range(MAX_NETWORK_SEATS + 1)],
                          value=networks, on_value=set_networks, classes=["civsim-room-networks"])  # fmt: skip
            solara.Switch(label="Citizens' panel", value=panel, on_value=set_panel)
            solara.Text("Anyone else can join as an observer.")
            solara.Select("Years to play (one round each)", values=[str(i) for i in range(1, MAX_ROUNDS + 1)],
                          value=rounds, on_value=set_rounds, classes=["civsim-room-rounds"])  # fmt: skip
    solara.Button("Open the room", on_click=open_room, color="primary", classes=["civsim-open-room"])
    if error:
        solara.Error(error, classes=["civsim-room-error"])
    with solara.Details("Reopen a room you host (code and host key)"):
        solara.InputText("Code", value=re_code, on_value=set_re_code, continuous_update=True)
        solara.InputText("Host key", value=re_key, on_value=set_re_key, continuous_update=True, password=True)
        solara.Button("Reopen", on_click=reopen, classes=["civsim-reopen"])


@solara.component
def HostRoom(code: str, host: str, on_leave):
    try:
        room = REGISTRY.get(code)
    except RoomError as exc:
        solara.Error(f"{exc} (rooms expire when idle)")
        solara.Button("Open a new room", on_click=on_leave)
        return
    use_room_updates(room, lambda v: v.version)
    view = room.view()
    base, set_base = solara.use_state(_default_base())
    tab, set_tab = solara.use_state(0)
    timer, set_timer = solara.use_state("off")
    message, set_message = solara.use_state("")
    link = f"{base.rstrip('/')}/join?{urlencode({'code': room.code})}"

    def act(fn):
        try:
            fn()
            set_message("")
        except RoomError as exc:
            set_message(str(exc))

    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}, gap="24px"):
        with solara.Column(gap="2px"):
            solara.Text("Join at /join with the code")
            solara.HTML(tag="div", unsafe_innerHTML=esc(room.code), classes=["civsim-room-code"])
            solara.HTML(tag="div", unsafe_innerHTML=esc(link), classes=["civsim-room-link"])
        solara.HTML(tag="div", unsafe_innerHTML=qr_svg(link), classes=["civsim-room-qr"])
        with solara.Column(gap="6px"):
            state = {"open": "Round open: seats are deciding", "running": "The year is running…",
                     "finished": "All years played: debrief"}[view.state]  # fmt: skip
            # the year and the state in one widget: one message an update, not two
            solara.HTML(tag="div", unsafe_innerHTML=(
                f"<h2>{esc(f'{view.story}: year {view.round} of {view.n_rounds}')}</h2>"
                f'<div class="civsim-host-state civsim-state-{esc(view.state)}">{esc(state)}</div>'))  # fmt: skip
            with solara.Row(gap="8px", style={"flex-wrap": "wrap"}):
                solara.Button("Run the year now", on_click=lambda: act(lambda: room.close_round(host)),
                              disabled=view.state != "open", color="primary", classes=["civsim-close-round"])  # fmt: skip
                solara.Select(
                    "Timer",
                    values=list(TIMERS),
                    value=timer,
                    on_value=set_timer,
                    style={"max-width": "110px"},
                )
                solara.Button("Start timer", on_click=lambda: act(lambda: room.set_timer(host, TIMERS[timer])),
                              disabled=view.state != "open", outlined=True, classes=["civsim-timer"])  # fmt: skip
            if view.deadline is not None:
                at = time.strftime("%H:%M:%S", time.localtime(time.time() + view.deadline - time.monotonic()))
                solara.Text(f"The round closes at {at}.")
            if message or view.error:
                solara.Error(message or view.error)
    with solara.Details("Link settings and host key"):
        solara.InputText("Address phones use to reach this server", value=base, on_value=set_base)
        solara.Text(f"Host key (to reopen this room from another device): {host}")
        solara.Button("Leave this screen (the room stays open)", on_click=on_leave, text=True)

    with solara.lab.Tabs(value=tab, on_value=set_tab):
        solara.lab.Tab("The room")
        solara.lab.Tab("Debrief")
    if tab == 0:
        with solara.Columns([2, 3]):
            with solara.Column():  # seats, headline and bars in one widget: one message an update, not three
                solara.HTML(tag="div", unsafe_innerHTML=view.drawn("host-left", host_left_html))
            with solara.Column():
                solara.HTML(
                    tag="div", unsafe_innerHTML=view.drawn("graph", graph_html), style="max-width: 520px"
                )
        solara.HTML(tag="h2", unsafe_innerHTML="The story, year by year")
        solara.HTML(
            tag="div",
            unsafe_innerHTML=view.drawn("story", story_html, shared=True),
            classes=["civsim-story", "civsim-host-story"],
        )
    else:
        Debrief(room, host, view)


@solara.component
def Debrief(room, host: str, view):
    asked, set_asked = solara.use_state(0)
    seeds, set_seeds = solara.use_state("8")

    def run_replay(cancel: threading.Event):
        if not asked:
            return None
        return room.debrief(host, int(seeds))

    result = solara.use_thread(run_replay, [asked], intrusive_cancel=False)
    replay = result.value if result.state == solara.ResultState.FINISHED else None
    solara.HTML(tag="h2", unsafe_innerHTML="Every decision against the outcome curves")
    # civsim's own plotly.js widget, as every other chart: solara.FigurePlotly needs anywidget
    Chart(
        lambda: json.loads(timeline_figure(view, replay).to_json()),
        (view.version, id(replay)),
        "debrief",
        "Chart: every decision against the outcome curves",
    )
    solara.HTML(
        tag="div",
        unsafe_innerHTML=view.drawn("decisions", decisions_html, shared=True),
        classes=["civsim-debrief-decisions"],
    )
    solara.HTML(
        tag="h2", unsafe_innerHTML="Skill or luck? The same decisions with other seeds, and no one deciding"
    )
    with solara.Row(gap="8px"):
        solara.Select(
            "Other seeds",
            values=["4", "8", "16"],
            value=seeds,
            on_value=set_seeds,
            style={"max-width": "130px"},
        )
        solara.Button("Replay", on_click=lambda: set_asked(asked + 1), disabled=not view.rounds,
                      color="primary", classes=["civsim-replay"])  # fmt: skip
    if result.state == solara.ResultState.RUNNING:
        solara.Text("Replaying…")
    if result.error is not None:
        solara.Error(f"The replay failed: {common.one_line(result.error)}")
    if replay is not None:
        solara.HTML(tag="div", unsafe_innerHTML="".join(f"<p>{esc(s)}</p>" for s in replay_summary(replay)),
                    classes=["civsim-replay-summary"])  # fmt: skip
    solara.HTML(tag="h2", unsafe_innerHTML="Export the session")
    solara.Text("civsim run scenario.toml --decisions decisions.toml reproduces timeseries.csv.")
    with solara.Row(gap="8px"):
        for name in ("scenario.toml", "decisions.toml", "timeseries.csv"):
            solara.FileDownload(
                lambda n=name: room.export(host)[n],
                filename=f"room-{room.code.lower()}-{name}",
                label=f"Download {name}",
            )
