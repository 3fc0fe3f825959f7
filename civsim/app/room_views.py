# ruff: noqa: E501  (HTML, labels and sentences read better unbroken)
"""Drawing pieces shared by the room pages (``/room`` and ``/join``).

Everything a participant typed (their name) is escaped here with
:func:`html.escape` before it reaches any HTML; the pages hand only these
strings to ``unsafe_innerHTML``. Plain functions return strings, so tests
can check the escaping without a browser.
"""

from __future__ import annotations

import functools
import html
import math
import os
import threading
import time
from collections.abc import Callable, Hashable

import numpy as np
import solara

from civsim.params import SCHEMA
from civsim.rooms.choices import CHOICES, describe
from civsim.rooms.registry import REGISTRY, Room, RoomView
from civsim.rooms.seats import SEAT_KINDS, Lever

TIMING_LOG = os.environ.get("CIVSIM_ROOM_TIMING", "")
"""If set, a file each page appends one line to per update: code, round, year done, render start, render end
(wall-clock seconds): the server's share of the update latency (scripts/room_scale.py reads it)."""
_timing_lock = threading.Lock()

SEAT_COLOURS = ["#6a4c93", "#1982c4", "#8ac926", "#ff595e", "#ffca3a", "#2ec4b6"]

ROOM_CSS = """
.civsim-room-code { font-size: 4rem; font-weight: 700; letter-spacing: 0.35rem; font-family: monospace; }
.civsim-room-link { font-size: 1.2rem; word-break: break-all; }
.civsim-room table { border-collapse: collapse; width: 100%; }
.civsim-room td, .civsim-room th { padding: 4px 8px; border-bottom: 1px solid #e3e3e3; text-align: left; }
.civsim-bar { height: 16px; background: #1b4965; border-radius: 3px; }
.civsim-decided { color: #2d6a4f; font-weight: 600; }
.civsim-waiting { color: #999; }
.civsim-phone { max-width: 560px; margin: 0 auto; font-size: 1.05rem; }
.civsim-phone .v-btn { text-transform: none; }
.civsim-lever { border-left: 4px solid #1b4965; padding: 4px 10px; margin: 8px 0; background: #f8fafb; }
.civsim-lever-help { color: #444; font-size: 0.95rem; }
.civsim-lever-cost { color: #7a4b00; font-size: 0.9rem; }
.civsim-headline { display: flex; flex-wrap: wrap; gap: 8px; }
.civsim-headline div { background: #f3f6f8; border-radius: 6px; padding: 4px 10px; }
.civsim-headline b { display: block; font-size: 1.3rem; }
.civsim-story-year p { margin: 0.2rem 0; }
.civsim-form-closed { display: none; }
.civsim-sent { background: #e8f5e9; color: #1b5e20; border-radius: 4px; padding: 8px 12px; margin: 6px 0; }
/* Solara's "runs on Solara" badge covers buttons on a phone: hidden on the room pages only */
div[style*="position: absolute"][style*="bottom: 0px"][style*="right: 0px"]:has(a[href="https://solara.dev"]) { display: none !important; }
"""


def esc(s: object) -> str:
    """Text for HTML: participants' names and anything else not written by us."""
    return html.escape(str(s), quote=True)


def headline_html(view: RoomView) -> str:
    """The shared headline every screen shows: the locality now."""
    f = view.frame
    first, last = f.iloc[0], f.iloc[-1]
    d = 100 * (last["outcome_index"] - first["outcome_index"])
    items = [
        ("Years run", f"{int(last['step']) // 12} of {view.n_rounds}"),
        ("Valued-outcome index", f"{last['outcome_index']:.3f} ({d:+.1f})"),
        ("Inclusion gap", f"{last['inclusion_gap']:.3f}"),
        ("Engagement", f"{100 * last['engagement']:.0f}%"),
        ("Trust", f"{last['trust']:.2f}"),
        ("Budget", f"{view.graph['budget_now']:.2f}"),
    ]
    cells = "".join(
        f'<div class="civsim-head-{i}">{esc(k)}<b>{esc(v)}</b></div>' for i, (k, v) in enumerate(items)
    )
    return f'<div class="civsim-headline">{cells}</div>'


def seats_html(view: RoomView) -> str:
    """Who sits where and who has decided this round (names escaped)."""
    rows = []
    for s in view.seats:
        who = esc(s.holder) if s.holder is not None else '<span class="civsim-waiting">free</span>'
        if (SEAT_KINDS[s.kind].levers or SEAT_KINDS[s.kind].choices) and s.holder is not None:
            status = (
                '<span class="civsim-decided">✓ decided</span>'
                if s.decided
                else '<span class="civsim-waiting">thinking…</span>'
            )
        else:
            status = ""
        agencies = f" (agencies {', '.join(str(a + 1) for a in s.agencies)})" if s.agencies else ""
        rows.append(
            f'<tr class="civsim-seat-row" data-seat="{esc(s.id)}" data-decided="{int(s.decided)}">'
            f'<td>{esc(s.title)}{esc(agencies)}</td><td class="civsim-seat-holder">{who}</td><td>{status}</td></tr>'
        )
    obs = ", ".join(esc(n) for n in view.observers) or "none"
    return (
        '<table class="civsim-seats"><tr><th>Seat</th><th>Who</th><th>This round</th></tr>'
        + "".join(rows)
        + f'</table><p class="civsim-observers">Observers ({len(view.observers)}): {obs}</p>'
    )


def bars_html(view: RoomView) -> str:
    """Outcome index by domain and by group, as bars (0 to 1), with the change since the start."""
    f = view.frame
    first, last = f.iloc[0], f.iloc[-1]

    def row(label: str, col: str) -> str:
        v, d = float(last[col]), float(last[col] - first[col])
        arrow = "▲" if d > 0.002 else ("▼" if d < -0.002 else "")
        return (
            f"<tr><td>{esc(label)}</td><td style='width:55%'><div class='civsim-bar' "
            f"style='width:{max(0.0, min(1.0, v)) * 100:.1f}%'></div></td>"
            f"<td>{v:.3f} {arrow}{100 * d:+.1f}</td></tr>"
        )

    dom = "".join(row(d, f"outcome_{d}") for d in view.domains if f"outcome_{d}" in f)
    grp = "".join(row(g, f"outcome_index_{g}") for g in view.groups if f"outcome_index_{g}" in f)
    return (
        "<table class='civsim-bars'><tr><th colspan=3>Outcome index by domain</th></tr>"
        + dom
        + "<tr><th colspan=3>By group</th></tr>"
        + grp
        + f"<tr><td>Inclusion gap</td><td></td><td>{last['inclusion_gap']:.3f}</td></tr></table>"
    )


def graph_html(view: RoomView) -> str:
    """The actor graph (the app's drawing) with each agency head's agencies ringed in the seat's colour."""
    from civsim.app.drawings import actor_graph_svg  # read-only reuse of the app's graph

    g = view.graph
    size = 460
    try:
        svg, _ = actor_graph_svg(
            g["alive"], g["net_hood"], g["net_members"], g["ally"], g["coord"], g["sector"],
            ("public", "ngo", "voluntary", "business"), g["n_hoods"], size=size,
        )  # fmt: skip
    except Exception as exc:  # the graph is reworked elsewhere: never break the room over it
        return f"<p>The actor graph cannot be drawn here ({esc(type(exc).__name__)}).</p>"
    A = len(g["sector"])
    cx = cy = size / 2
    r_in = size * 0.22  # the same ring as actor_graph_svg
    marks, legend = [], []
    agency_seats = [s for s in view.seats if s.kind == "agency"]
    for i, s in enumerate(agency_seats):
        colour = SEAT_COLOURS[i % len(SEAT_COLOURS)]
        for a in s.agencies:
            ang = 2 * math.pi * (a + 0.5) / max(1, A) - math.pi / 2
            x, y = cx + r_in * math.cos(ang), cy + r_in * math.sin(ang)
            marks.append(
                f'<circle class="civsim-seat-mark" cx="{x:.1f}" cy="{y:.1f}" r="14" fill="none" '
                f'stroke="{colour}" stroke-width="3"/>'
            )
        who = f" — {esc(s.holder)}" if s.holder else ""
        legend.append(f'<span style="color:{colour}">◯</span> {esc(s.title)}{who}')
    svg = svg.replace("</svg>", "".join(marks) + "</svg>")
    council = next((s for s in view.seats if s.kind == "council"), None)
    if council is not None:
        legend.append(
            f"● centre: {esc(council.title)}" + (f" — {esc(council.holder)}" if council.holder else "")
        )
    return f'<div class="civsim-room-graph">{svg}<p>{"<br>".join(legend)}</p></div>'


def story_html(view: RoomView, newest_first: bool = True) -> str:
    """The story of each year played (written by the room from the model's numbers)."""
    recs = list(view.rounds)[::-1] if newest_first else list(view.rounds)
    if not recs:
        return "<p>No year has run yet.</p>"
    return "".join(
        f'<div class="civsim-story-year" data-year="{r.round}" data-ran-at="{1000 * r.ran_at:.0f}">'
        + "".join(f"<p>{esc(line)}</p>" for line in r.story)
        + "</div>"
        for r in recs
    )


@functools.lru_cache(maxsize=64)
def qr_svg(url: str, scale: int = 6) -> str:
    """A QR code of ``url`` as inline SVG (drawn on the server by segno; once per link, not per render)."""
    import segno

    return segno.make(url, error="m").svg_inline(scale=scale, dark="#000", light="#fff")


def lever_step(param: str) -> float:
    """Slider step for a lever: about a hundredth of its range, a power of ten."""
    p = SCHEMA[param]
    span = float(p.max) - float(p.min)
    return 10.0 ** math.floor(math.log10(span / 100.0)) if span > 0 else 0.01


def lever_text(lever: Lever, params: dict[str, float], budget: float) -> tuple[str, str]:
    """(help, cost) shown under a lever: the schema's help text and what it costs now."""
    return SCHEMA[lever.param].help, lever.cost(params, budget)


def use_room_updates(room: Room | None, key: Callable[[RoomView], Hashable]) -> int:
    """Re-render when ``key(room.view())`` changes (a thread per tab waits on the room's condition).

    Keys keep phones quiet: a phone re-renders when the round or its own seat
    changes, not whenever anyone decides.
    """
    tick, set_tick = solara.use_state(0)

    def watch(cancel: threading.Event):
        if room is None:
            return
        seen = room.view().version
        last = key(room.view())
        while not cancel.is_set() and REGISTRY.holds(room):  # a closed or expired room frees its watchers
            seen = room.wait(seen, 1.0)
            view = room.view()
            k = key(view)
            if k != last:
                last = k
                t0 = time.time()
                set_tick(lambda t: t + 1)  # re-renders this tab's page in this thread
                if TIMING_LOG and view.rounds:
                    line = f"{room.code} {len(view.rounds)} {view.rounds[-1].ran_at:.3f} {t0:.3f} {time.time():.3f}\n"
                    with _timing_lock, open(TIMING_LOG, "a") as fh:
                        fh.write(line)

    solara.use_thread(watch, [room], intrusive_cancel=False)
    return tick


def timeline_figure(view: RoomView, replay: dict | None = None):
    """Plotly figure: outcome index and inclusion gap by month, rounds and decisions marked."""
    import plotly.graph_objects as go

    f = view.frame
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=f["step"] / 12, y=f["outcome_index"], name="outcome index (this session)", line={"width": 4}
        )
    )
    fig.add_trace(
        go.Scatter(
            x=f["step"] / 12, y=f["inclusion_gap"], name="inclusion gap", yaxis="y2", line={"dash": "dot"}
        )
    )
    if replay is not None:
        fn = replay["nobody"]
        n0 = fn[fn["run"] == 0]
        fig.add_trace(
            go.Scatter(
                x=n0["step"] / 12,
                y=n0["outcome_index"],
                name="no one deciding (same seed)",
                line={"color": "#999"},
            )
        )
        fd = replay["decided"]
        band = fd.groupby("step")["outcome_index"]
        lo, hi = band.quantile(0.05), band.quantile(0.95)
        fig.add_trace(go.Scatter(x=np.concatenate([lo.index / 12, hi.index[::-1] / 12]),
                                 y=np.concatenate([lo.to_numpy(), hi.to_numpy()[::-1]]),
                                 fill="toself", name="your decisions, other seeds (90%)",
                                 line={"width": 0}, fillcolor="rgba(27,73,101,0.15)"))  # fmt: skip
    for r in view.rounds:
        text = (
            "<br>".join(
                esc(
                    f"{_seat_title(view, sid)}: "
                    + ", ".join(f"{k} {describe(k, v)}" for k, v in vals.items())
                )
                for sid, vals in r.changed.items()
            )
            or "no changes"
        )
        fig.add_vline(x=r.month / 12, line={"dash": "dash", "color": "#6a4c93"})
        fig.add_annotation(
            x=r.month / 12, y=1.0, yref="paper", text=f"Y{r.round}", hovertext=text, showarrow=False
        )
    fig.update_layout(
        height=380, margin={"l": 50, "r": 50, "t": 30, "b": 40}, xaxis_title="year",
        yaxis={"title": "outcome index"}, yaxis2={"title": "gap", "overlaying": "y", "side": "right"},
        legend={"orientation": "h", "y": -0.25},
    )  # fmt: skip
    return fig


def _seat_title(view: RoomView, sid: str) -> str:
    for s in view.seats:
        if s.id == sid:
            return s.title
    return sid


def _lever_label(param: str) -> str:
    for kind in SEAT_KINDS.values():
        for lv in kind.levers:
            if lv.param == param:
                return lv.label.split(" (")[0]
    if param in CHOICES:
        return CHOICES[param].label
    return param


def decisions_html(view: RoomView) -> str:
    """Every seat's changes, round by round (the debrief's table)."""
    rows = []
    for r in view.rounds:
        for sid, vals in r.changed.items():
            eff = r.effects.get(sid)
            e = f"{100 * eff[0]:+.2f} / {100 * eff[1]:+.2f}" if eff else ""
            what = "; ".join(f"{_lever_label(k)} = {describe(k, v)}" for k, v in vals.items())
            rows.append(
                f"<tr><td>{r.round}</td><td>{esc(_seat_title(view, sid))}</td><td>{esc(what)}</td><td>{e}</td></tr>"
            )
    if not rows:
        return "<p>No seat changed anything yet.</p>"
    return (
        "<table class='civsim-decisions'><tr><th>Year</th><th>Seat</th><th>Changed</th>"
        "<th>Effect that year: index / gap (points)</th></tr>" + "".join(rows) + "</table>"
    )


def replay_summary(replay: dict) -> list[str]:
    """Skill or luck, in words, from :meth:`civsim.rooms.game.Game.replay`."""
    gain = np.asarray(replay["gain"])
    n = len(gain)
    lo, hi = np.percentile(gain, [5, 95])
    end = np.asarray(replay["end_decided"])
    return [
        f"With your decisions the locality ended at {end[0]:.3f}; with no one deciding (same seed) at "
        f"{replay['end_nobody'][0]:.3f}: {100 * gain[0]:+.1f} points.",
        f"The same decisions with {n - 1} other seeds: {100 * gain.mean():+.1f} points on average over no one "
        f"deciding (90% of seeds between {100 * lo:+.1f} and {100 * hi:+.1f}).",
        f"Your session ended above {replay['session_rank']} of the {n - 1} other seeds with the same decisions. "
        + (
            "The decisions helped with every seed: skill, not luck."
            if (gain > 0).all()
            else "The decisions hurt with every seed: not bad luck."
            if (gain < 0).all()
            else "Their effect changed sign between seeds: chance mattered as much as the decisions."
        ),
    ]


def _log_collections(phase: str, info: dict, started: list[float] = [0.0]) -> None:  # noqa: B006 (a cell)
    """With ``CIVSIM_ROOM_TIMING`` set, also log every collection of the older generations that took
    over 10 ms to ``<log>.gc``: start, generation, seconds (scripts/room_scale.py counts them per year)."""
    if phase == "start":
        started[0] = time.time()
    elif info.get("generation", 0) >= 1 and time.time() - started[0] > 0.01:
        with _timing_lock, open(TIMING_LOG + ".gc", "a") as fh:
            fh.write(f"{started[0]:.3f} {info['generation']} {time.time() - started[0]:.3f}\n")


if TIMING_LOG:
    import gc

    gc.callbacks.append(_log_collections)
