"""Compare (``/compare``): two to four scenarios, R replicates each, bands and differences."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any

import solara

from civsim import params as P
from civsim.app import common, comparison, plots, workers
from civsim.app.compare_results import AsRunDownload, ResultsView
from civsim.app.comparison import Cancelled, ScenarioSpec
from civsim.app.schema_ui import ParamControls, check_value, parse_seed
from civsim.app.upload import ScenarioUpload
from civsim.calibration.posterior import load_posterior, shipped_posteriors
from civsim.errors import UserError
from civsim.scenario import Scenario

MAX_SCENARIOS = 4
DEFAULT_PAIR = ("baseline", "austerity")
PROGRESS_EVERY = 0.5
"""Seconds between progress-bar updates (each one redraws only the bar)."""


def spec_from(s: Scenario, name: str | None = None) -> ScenarioSpec:
    return ScenarioSpec(
        name=name or s.name,
        description=s.description,
        overrides=dict(s.params),
        seed=int(s.seed),
        steps=int(s.steps),
        preset=s.name,
    )


def initial_specs() -> list[ScenarioSpec]:
    names = common.preset_names()
    chosen = [n for n in DEFAULT_PAIR if n in names] or names[:2]
    while len(chosen) < 2:
        chosen.append(names[0])
    specs = [spec_from(common.preset(n)) for n in chosen]
    if specs[0].name == specs[1].name:
        specs[1].name += " (edited)"
    return specs


def unique_name(base: str, taken: list[str]) -> str:
    name, i = base, 2
    while name in taken:
        name = f"{base} {i}"
        i += 1
    return name


def parse_citizens(text: str) -> int | None:
    """The "Citizens per run" box: blank = each scenario's own; else a checked whole number."""
    raw = str(text).strip().replace(",", "").replace("_", "")
    if not raw:
        return None
    return check_value("n_citizens", raw, "Citizens per run")


@solara.component
def SlotEditor(
    index: int,
    spec: ScenarioSpec,
    on_change,
    on_remove,
    removable: bool,
    taken: list[str],
    settings: dict[str, Any],
):
    colour = plots.SCENARIO_COLOURS[index % len(plots.SCENARIO_COLOURS)]
    others = [t for j, t in enumerate(taken) if j != index]

    def set_name(text: str):
        text = (text or "").strip()
        if text:
            on_change(index, replace(spec, name=unique_name(text, others)))

    def pick(name: str):
        on_change(index, spec_from(common.preset(name), unique_name(name, others)))

    def on_upload(s: Scenario):
        on_change(index, spec_from(s, unique_name(s.name, others)))

    def on_param(name: str, value: Any):
        new = {**spec.overrides, name: value}
        label = spec.name if spec.name.endswith("(edited)") else f"{spec.name} (edited)"
        label = unique_name(label, others) if label != spec.name else label
        on_change(index, replace(spec, name=label, overrides=new))

    letter = chr(65 + index)
    with solara.Div(
        classes=["civsim-panel", f"civsim-slot civsim-slot-{index}"],
        style={"border-top": f"5px solid {colour}", "padding": "10px"},
    ):
        with solara.Row(justify="space-between", style={"align-items": "center"}):
            solara.HTML(
                tag="h2",
                unsafe_innerHTML=f"Scenario {letter}" + (" (reference)" if index == 0 else ""),
                style={"font-size": "1.1rem", "color": colour, "margin": "0"},
            )
            if removable:
                solara.Button(
                    f"Remove {letter}",
                    icon_name="mdi-close",
                    text=True,
                    on_click=lambda: on_remove(index),
                    classes=["civsim-remove"],
                )
        solara.InputText(f"Name of scenario {letter}", value=spec.name, on_value=set_name)
        presets = common.preset_names()
        solara.Select(
            f"Scenario {letter} starts from preset",
            values=presets,
            value=spec.preset if spec.preset in presets else None,
            on_value=pick,
            classes=["civsim-slot-preset"],
        )
        solara.Text(
            spec.description or "", style={"font-size": "0.85rem", "color": "#374151", "display": "block"}
        )
        changed = {k: v for k, v in spec.overrides.items() if k in P.SCHEMA}
        shown = ", ".join(f"{k} = {v}" for k, v in list(changed.items())[:8]) + (
            " …" if len(changed) > 8 else ""
        )
        # always present (empty when nothing is set), so the upload below keeps its place and its message
        solara.Text(
            f"Overrides: {shown}" if changed else "",
            classes=["civsim-overrides"],
            style={"font-size": "0.8rem", "color": "#374151", "display": "block", "margin-top": "4px"},
        )
        with solara.Details("Edit parameters"):
            ParamControls({**P.defaults(), **spec.overrides}, on_param, open_first=False)
        ScenarioUpload(on_upload, label="Load a scenario file (.toml)", key_prefix=f"upload-{index}").key(
            "upload"
        )
        AsRunDownload(spec, settings, "Download scenario (TOML)").key("download")


@solara.component
def Compare():
    specs, set_specs = solara.use_state(solara.use_memo(initial_specs, []))
    reps, set_reps = solara.use_state(16)
    months, set_months = solara.use_state(120)
    citizens, set_citizens = solara.use_state("")
    seed_text, set_seed_text = solara.use_state("0")
    metric, set_metric = solara.use_state("outcome_index")
    request, set_request = solara.use_state(0)
    # (request, percent), read only by CompareProgress, so a tick redraws the bar, not the page;
    # the bar shows a percent only for the current request, so a rerun never starts at 100%
    progress = solara.use_reactive((0, 0.0))
    result, set_result = solara.use_state(None)  # (frame, settings text, seconds, run settings, specs)
    error, set_error = solara.use_state(None)
    running, set_running = solara.use_state(False)
    shipped = solara.use_memo(shipped_posteriors, [])
    calibrated, set_calibrated = solara.use_state(False)
    cancel_event = solara.use_memo(threading.Event, [request])
    # start the worker processes while the user sets up the comparison
    solara.use_thread(lambda: _warm(), [], intrusive_cancel=False)

    def change(i: int, spec: ScenarioSpec):
        set_specs(lambda old: [spec if j == i else s for j, s in enumerate(old)])

    def remove(i: int):
        set_specs(lambda old: [s for j, s in enumerate(old) if j != i])

    def add():
        names = [s.name for s in specs]
        base = common.preset(common.default_preset_name())
        set_specs(lambda old: old + [spec_from(base, unique_name(base.name, names))])

    citizens_error = seed_error = None
    try:
        n_citizens = parse_citizens(citizens)
    except P.ParamError as exc:
        n_citizens, citizens_error = None, str(exc)
    try:
        seed = parse_seed(seed_text)
    except ValueError as exc:
        seed, seed_error = 0, str(exc)
    settings = {"seed": seed, "steps": int(months), "reps": int(reps), "n_citizens": n_citizens}

    def start():
        set_error(None)
        if citizens_error or seed_error:
            set_error(citizens_error or seed_error)
            return
        set_running(True)  # the bar shows at once, before the worker thread starts
        set_request(lambda r: r + 1)

    def work(cancel: threading.Event):
        if request == 0:
            return
        progress.value = (request, 0.0)
        set_running(True)
        t0 = time.perf_counter()
        last = [0.0]

        def report(done: int, total: int):
            now = time.perf_counter()
            if now - last[0] > PROGRESS_EVERY or done == total:
                last[0] = now
                progress.value = (request, 100.0 * done / total)

        run_specs = list(specs)
        run_settings = dict(settings)
        try:
            post = load_posterior(shipped[0]) if calibrated and shipped else None
            if post is not None:
                run_settings["posterior"] = shipped[0]
            frame = comparison.run_comparison(
                run_specs,
                int(reps),
                int(months),
                seed,
                n_citizens=n_citizens,
                progress=report,
                cancel=cancel_event,
                workers=workers.default_workers(),
                posterior=post,
            )
            took = time.perf_counter() - t0
            text = (
                f"{len(run_specs)} scenarios × {reps} replicates × {months} months"
                + (f" × {n_citizens:,} citizens" if n_citizens else "")
                + f", seed {seed}"
                + (
                    f"; each replicate's {', '.join(post.names)} drawn from the calibrated posterior "
                    f"'{shipped[0]}' (sha256 {post.sha256[:12]})"
                    if post is not None
                    else ""
                )
            )
            set_result((frame, text, took, run_settings, run_specs))
        except Cancelled:
            set_error("Cancelled.")
        except (UserError, P.ParamError, ValueError) as exc:
            set_error(common.one_line(exc))
        except Exception as exc:  # one line, never a traceback
            set_error(f"The comparison failed: {common.one_line(exc)}")
        finally:
            set_running(False)

    solara.use_thread(work, [request], intrusive_cancel=False)

    solara.Title("civsim · Compare")
    with solara.Column(gap="12px", classes=["civsim-compare"]):
        solara.HTML(tag="h1", unsafe_innerHTML="Compare scenarios")
        solara.Text(
            "Two to four scenarios, each run R times with different "
            "seeds (replicate r uses the same seed in every "
            "scenario, so differences are paired). Lines are means, shaded bands hold 90% of replicates.",
        )
        with solara.Div(classes=["civsim-row", "civsim-slots"]):
            for i, spec in enumerate(specs):
                SlotEditor(i, spec, change, remove, len(specs) > 2, [s.name for s in specs], settings).key(
                    f"slot-{i}"
                )
        with solara.Row(
            gap="16px",
            style={"align-items": "center", "flex-wrap": "wrap"},
            classes=["civsim-compare-options"],
        ):
            solara.Button(
                "Add scenario",
                icon_name="mdi-plus",
                on_click=add,
                disabled=len(specs) >= MAX_SCENARIOS or running,
                classes=["civsim-add"],
            )
            with solara.Div(style={"width": "240px", "max-width": "100%"}, classes=["civsim-reps"]):
                solara.SliderInt(f"Replicates: {reps}", value=reps, on_value=set_reps, min=2, max=64)
            with solara.Div(style={"width": "240px", "max-width": "100%"}, classes=["civsim-months"]):
                solara.SliderInt(
                    f"Months: {months}", value=months, on_value=set_months, min=12, max=240, step=12
                )
            with solara.Div(style={"width": "200px"}, classes=["civsim-citizens"]):
                solara.InputText(
                    "Citizens per run",
                    value=citizens,
                    on_value=set_citizens,
                    placeholder="each scenario's own",
                    continuous_update=True,
                    error=citizens_error is not None,
                )
            with solara.Div(style={"width": "120px"}, classes=["civsim-seed"]):
                solara.InputText(
                    "Seed",
                    value=seed_text,
                    on_value=set_seed_text,
                    error=seed_error is not None,
                    continuous_update=True,
                )
            if shipped:
                with solara.Div(classes=["civsim-calibrated"]):
                    solara.Switch(
                        label=f"Calibrated: draw parameters from the posterior '{shipped[0]}'",
                        value=calibrated,
                        on_value=set_calibrated,
                        disabled=running,
                    )
            if running:
                solara.Button(
                    "Cancel", icon_name="mdi-stop", on_click=cancel_event.set, classes=["civsim-cancel"]
                )
            else:
                solara.Button(
                    "Run comparison",
                    icon_name="mdi-play",
                    color="primary",
                    on_click=start,
                    classes=["civsim-compare-run"],
                )
        for msg in (citizens_error, seed_error):
            if msg:
                solara.Error(msg, dense=True, classes=["civsim-input-error"])
        if running:
            CompareProgress(progress, request)
        if error:
            solara.Error(error, classes=["civsim-error"])
        if result is None:
            return
        frame, text, took, run_settings, run_specs = result
        ResultsView(frame, text, took, metric, set_metric, run_settings, run_specs)


def _warm() -> None:
    try:
        workers.warm()
    except Exception:  # the comparison reports any real problem when it runs
        pass


@solara.component
def CompareProgress(progress: solara.Reactive[tuple[int, float]], request: int):
    of, percent = progress.value
    percent = percent if of == request else 0.0
    with solara.Div(classes=["civsim-progress-box"]):
        solara.ProgressLinear(value=percent)
        solara.Text(f"Running… {percent:.0f}%", classes=["civsim-progress"])
