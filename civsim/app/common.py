# ruff: noqa: E501  (CSS, JavaScript and plotly figure literals read better unbroken)
"""Pieces shared by the pages: presets, the live-run hook, headline numbers, layout."""

from __future__ import annotations

import copy
import functools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import solara

from civsim import limits
from civsim import params as P
from civsim.app.live import LiveRun, Snapshot
from civsim.errors import UserError
from civsim.params import ParamError
from civsim.scenario import Scenario, list_presets

DEFAULT_PRESET = "baseline"
APP_TITLE = "civsim — civic partnership simulator"
PAGE_CSS = """
.civsim-stat { min-width: 120px; padding: 6px 12px; border-radius: 6px; background: #f3f6f8; }
.civsim-stat-label { font-size: 0.8rem; color: #374151; display: block; }
.civsim-stat-value { font-size: 1.4rem; font-weight: 600; display: block; }
.civsim-big .civsim-stat { min-width: 150px; padding: 8px 14px; }
.civsim-big .civsim-stat-label { font-size: 1.05rem; }
.civsim-big .civsim-stat-value { font-size: 2rem; }
.civsim-big, .civsim-big .v-btn { font-size: 1.15rem !important; }
.civsim-big .v-btn { min-height: 48px; text-transform: none; }
.civsim-big h1 { font-size: 1.9rem; margin: 0; }
.civsim-big h2 { font-size: 1.45rem; margin: 0 0 6px 0; }
.civsim-explore h1, .civsim-compare h1 { font-size: 1.6rem; margin: 0; }
.civsim-story p { font-size: 1.15rem; line-height: 1.5; margin-bottom: 0.4rem; }
.civsim-panel { background: white; border-radius: 8px; padding: 8px; box-shadow: 0 1px 3px rgba(0,0,0,0.12);
  max-width: 100%; min-width: 0; }
.civsim-param { margin-bottom: 10px; }
.civsim-slider .v-label { position: absolute !important; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
.civsim-help { color: #374151; line-height: 1.25; }
.civsim-nav .v-btn { text-transform: none; font-size: 1rem; }
.civsim-intervene.v-btn { white-space: normal !important; height: auto !important; min-height: 52px;
  padding: 6px 10px !important; text-transform: none; letter-spacing: normal; }
.civsim-intervene .v-btn__content { white-space: normal; flex: 1 1 auto; line-height: 1.25; }
.civsim-diffs { overflow-x: auto; max-width: 100%; }
.civsim-diff-table th, .civsim-diff-table td { border-bottom: 1px solid #e5e7eb; }
.civsim-better { color: #166534; font-weight: 600; }
.civsim-worse { color: #b91c1c; font-weight: 600; }
.civsim-chart { width: 100%; min-width: 0; }
.civsim-drawer-close { display: none; margin-bottom: 8px; padding: 0 12px; height: 36px; border: 1px solid #1b4965;
  border-radius: 4px; color: #1b4965; }
.civsim-row { display: flex; flex-wrap: wrap; gap: 12px; align-items: stretch; }
.civsim-row > * { flex: 1 1 360px; min-width: 0; }
.civsim-charts-big > * { flex-basis: 100%; }
@media (max-width: 960px) {
  .civsim-drawer-close { display: inline-flex; align-items: center; }
}
@media (max-width: 600px) {
  .v-navigation-drawer { min-width: 0 !important; width: 86vw !important; max-width: 86vw !important; }
  .v-app-bar .v-toolbar__title { display: none; }
  .civsim-nav { flex-wrap: nowrap !important; }
  .civsim-nav .v-btn { min-width: 0 !important; padding: 0 4px !important; font-size: 0.82rem; }
  .civsim-nav .v-btn.civsim-nav-more { width: 32px !important; }
  .civsim-stat { min-width: 0; flex: 1 1 40%; }
  .civsim-row > * { flex-basis: 100%; }
  .solara-content-main { overflow-x: hidden; }
  .civsim-big h1 { font-size: 1.4rem; }
}
"""


@functools.lru_cache(maxsize=1)
def _presets_cached() -> tuple[Scenario, ...]:
    return tuple(list_presets())


def presets() -> list[Scenario]:
    """The shipped presets (validated once per server), or a bare baseline if none load."""
    try:
        found = list(_presets_cached())
    except UserError:
        found = []
    if not found:
        found = [Scenario(name=DEFAULT_PRESET, description="Default parameters.")]
    return found


def preset(name: str) -> Scenario:
    """A copy of the preset called ``name`` (sessions must not share mutable objects)."""
    for s in presets():
        if s.name == name:
            return copy.deepcopy(s)
    return copy.deepcopy(presets()[0])


def preset_names() -> list[str]:
    return [s.name for s in presets()]


def default_preset_name() -> str:
    names = preset_names()
    return DEFAULT_PRESET if DEFAULT_PRESET in names else names[0]


def one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def make_live(overrides: dict[str, Any], seed: int) -> tuple[LiveRun | None, str | None]:
    """Build a live run; a bad parameter combination gives (None, one-line message)."""
    try:
        n = int(P.resolve(overrides)["n_citizens"])  # memory checked before the model is built (issue 11)
        limits.check_app(limits.run_bytes(n, 1, 240), f"a live model of {n:,} citizens", "use fewer citizens")
        return LiveRun(overrides, seed), None
    except (ParamError, UserError, ValueError) as exc:
        return None, one_line(exc)


@dataclass
class LiveState:
    """What :func:`use_live` gives a page."""

    live: LiveRun | None
    error: str | None
    snapshot: Snapshot | None
    playing: bool
    set_playing: Callable[[bool], None]
    step: Callable[[int], None]
    intervene: Callable[[str, float], None]
    reset: Callable[[], None]
    message: str | None


def use_live(
    overrides: dict[str, Any],
    seed: int,
    horizon: int,
    months_per_frame: int,
    frame_delay: float = 0.05,
    generation: int = 0,
) -> LiveState:
    """A per-session live run with play/pause/step/reset, rebuilt when ``overrides`` or ``seed`` change.

    The run lives in this component's state, so every browser session (and
    every page) has its own. Playing steps the model in a background thread
    and re-renders after every ``months_per_frame`` months, until ``horizon``.
    """
    run_key, set_run_key = solara.use_state(0)
    key = (repr(sorted(overrides.items())), int(seed), run_key, generation)
    built = solara.use_memo(lambda: make_live(overrides, seed), [key])
    live, error = built
    tick, set_tick = solara.use_state(0)
    playing, set_playing = solara.use_state(False)
    message, set_message = solara.use_state(None)

    # The loop waits for each frame to be rendered (and sent) before stepping
    # on: a state change made while a render is running extends that render,
    # and the browser would see nothing until the run ends.
    rendered = solara.use_memo(threading.Event, [])
    solara.use_effect(rendered.set, [tick])

    def bump():
        rendered.clear()
        set_tick(lambda t: t + 1)

    def loop(cancel: threading.Event):
        if not playing or live is None:
            return
        try:
            while not cancel.is_set():
                if live.month >= horizon:
                    break
                live.step(min(months_per_frame, horizon - live.month))
                bump()
                rendered.wait(timeout=10.0)
                time.sleep(frame_delay)
        except Exception as exc:  # never a traceback in the page
            set_message(f"The run stopped: {one_line(exc)}")
        if not cancel.is_set():
            set_playing(False)

    solara.use_thread(loop, [playing, live, months_per_frame, horizon], intrusive_cancel=False)

    def step(months: int):
        if live is None:
            return
        try:
            live.step(months)
        except Exception as exc:
            set_message(f"The step failed: {one_line(exc)}")
        bump()

    def intervene(name: str, value: float):
        if live is None:
            return
        try:
            live.intervene(name, value)
        except Exception as exc:
            set_message(f"The intervention failed: {one_line(exc)}")
        bump()

    def reset():
        set_playing(False)
        set_message(None)
        set_run_key(lambda k: k + 1)

    snap = live.snapshot() if live is not None else None
    return LiveState(live, error, snap, playing, set_playing, step, intervene, reset, message)


@solara.component
def PlayButton(ls: LiveState, horizon: int, label: str = "Run"):
    """Run/pause toggle of the Explore and Workshop pages; disabled once the run reaches ``horizon``."""
    solara.Button(
        "Pause" if ls.playing else label,
        icon_name="mdi-pause" if ls.playing else "mdi-play",
        color="primary",
        on_click=lambda: ls.set_playing(not ls.playing),
        disabled=ls.live is None or (not ls.playing and ls.live.month >= horizon),
        classes=["civsim-run"],
    )


@solara.component
def Stat(label: str, value: str, key_name: str):
    with solara.Div(classes=["civsim-stat", f"civsim-stat-{key_name}"]):
        solara.Text(label, classes=["civsim-stat-label"])
        solara.Text(value, classes=["civsim-stat-value"]).meta(ref=f"stat-{key_name}")


@solara.component
def StatsBar(snap: Snapshot):
    """The headline numbers of a run now, with their change since the start."""
    f = snap.frame
    first = f.iloc[0]

    def delta(col: str, scale: float = 1.0, fmt: str = "+.1f") -> str:
        d = (snap.latest(col) - float(first[col])) * scale
        return f" ({d:{fmt}})" if len(f) > 1 else ""

    with solara.Row(gap="10px", style={"flex-wrap": "wrap"}, classes=["civsim-stats"]):
        Stat(f"Time ({snap.month / 12:.1f} years)", f"month {snap.month}", "month")
        Stat(
            "Outcome index",
            f"{snap.latest('outcome_index'):.3f}{delta('outcome_index', 100)}",
            "outcome",
        )
        Stat("Inclusion gap", f"{snap.latest('inclusion_gap'):.3f}", "gap")
        Stat("Engagement", f"{100 * snap.latest('engagement'):.1f}%", "engagement")
        Stat("Trust", f"{snap.latest('trust'):.2f}", "trust")
        Stat("Budget", f"{snap.extra.get('budget_now', snap.latest('budget')):.2f}", "budget")
        Stat(
            "Networks / alliance ties",
            f"{int(snap.latest('networks'))} / {int(snap.latest('alliances'))}",
            "networks",
        )


@solara.component
def SvgView(svg: str, classes: list[str] | None = None, max_width: str = "560px"):
    solara.HTML(
        tag="div", unsafe_innerHTML=svg, classes=classes or [], style=f"width: 100%; max-width: {max_width};"
    )


def safe_draw(fn: Callable[[], Any]) -> tuple[Any, str | None]:
    """Run a drawing function; on failure return (None, one-line message) instead of a traceback."""
    try:
        return fn(), None
    except Exception as exc:
        return None, f"Could not draw this view: {one_line(exc)}"
