"""Compare (``/compare``): two to four scenarios, R replicates each, bands and differences."""

from __future__ import annotations

import html
import threading
import time
from typing import Any

import pandas as pd
import solara

from civsim import params as P
from civsim.app import common, comparison, plots
from civsim.app.comparison import METRICS, PERCENT, Cancelled, ScenarioSpec
from civsim.app.schema_ui import ParamControls
from civsim.app.upload import ScenarioUpload
from civsim.app.views import Chart
from civsim.errors import UserError
from civsim.scenario import Scenario

MAX_SCENARIOS = 4
DEFAULT_PAIR = ("baseline", "austerity")


def spec_from(s: Scenario, name: str | None = None) -> ScenarioSpec:
    return ScenarioSpec(
        name=name or s.name,
        description=s.description,
        overrides=dict(s.params),
        seed=int(s.seed),
        steps=int(s.steps),
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


@solara.component
def SlotEditor(index: int, spec: ScenarioSpec, on_change, on_remove, removable: bool, taken: list[str]):
    colour = plots.SCENARIO_COLOURS[index % len(plots.SCENARIO_COLOURS)]

    def set_name(text: str):
        text = (text or "").strip()
        if text:
            on_change(index, ScenarioSpec(text, spec.description, spec.overrides, spec.seed, spec.steps))

    def pick(name: str):
        s = common.preset(name)
        on_change(index, spec_from(s, unique_name(s.name, [t for j, t in enumerate(taken) if j != index])))

    def on_upload(s: Scenario):
        on_change(index, spec_from(s, unique_name(s.name, [t for j, t in enumerate(taken) if j != index])))

    def on_param(name: str, value: Any):
        new = {**spec.overrides, name: value}
        label = spec.name if spec.name.endswith("(edited)") else f"{spec.name} (edited)"
        label = (
            unique_name(label, [t for j, t in enumerate(taken) if j != index])
            if label != spec.name
            else label
        )
        on_change(index, ScenarioSpec(label, spec.description, new, spec.seed, spec.steps))

    with solara.Div(
        classes=["civsim-panel", f"civsim-slot civsim-slot-{index}"],
        style={"border-top": f"5px solid {colour}", "padding": "10px"},
    ):
        with solara.Row(justify="space-between"):
            solara.Text(
                f"Scenario {chr(65 + index)}" + (" (reference)" if index == 0 else ""),
                style={"font-weight": "bold", "color": colour},
            )
            if removable:
                solara.Button(
                    icon_name="mdi-close",
                    icon=True,
                    on_click=lambda: on_remove(index),
                    classes=["civsim-remove"],
                )
        solara.InputText("Name", value=spec.name, on_value=set_name)
        preset_value = spec.name if spec.name in common.preset_names() else None
        solara.Select("Start from preset", values=common.preset_names(), value=preset_value, on_value=pick)
        solara.Text(
            spec.description or "", style={"font-size": "0.85rem", "color": "#444", "display": "block"}
        )
        changed = {k: v for k, v in spec.overrides.items() if k in P.SCHEMA}
        if changed:
            shown = ", ".join(f"{k} = {v}" for k, v in list(changed.items())[:8]) + (
                " …" if len(changed) > 8 else ""
            )
            solara.Text(
                f"Overrides: {shown}",
                style={"font-size": "0.8rem", "color": "#555", "display": "block", "margin-top": "4px"},
            )
        with solara.Details("Edit parameters"):
            ParamControls({**P.defaults(), **spec.overrides}, on_param, open_first=False)
        ScenarioUpload(on_upload, label="Load a scenario file (.toml)", key_prefix=f"upload-{index}")
        solara.FileDownload(
            spec.to_toml(),
            filename=f"{spec.name.replace(' ', '_').replace('/', '_')}.toml",
            label="Download scenario (TOML)",
            mime_type="application/toml",
        )


def diff_table_html(table: pd.DataFrame) -> str:
    cols = list(table.columns)
    head = "".join(f"<th style='text-align:left;padding:4px 10px'>{html.escape(str(c))}</th>" for c in cols)
    rows = []
    for _, r in table.iterrows():
        cells = "".join(f"<td style='padding:3px 10px'>{html.escape(str(r[c]))}</td>" for c in cols)
        rows.append(f"<tr>{cells}</tr>")
    return (
        "<table class='civsim-diff-table' style='border-collapse:collapse;font-size:0.9rem'>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


@solara.component
def Compare():
    specs, set_specs = solara.use_state(solara.use_memo(initial_specs, []))
    reps, set_reps = solara.use_state(16)
    months, set_months = solara.use_state(120)
    citizens, set_citizens = solara.use_state("")
    seed, set_seed = solara.use_state(0)
    metric, set_metric = solara.use_state("outcome_index")
    request, set_request = solara.use_state(0)
    # progress is a reactive read only by CompareProgress, so a tick redraws the bar, not the page
    progress = solara.use_reactive(0.0)
    result, set_result = solara.use_state(None)  # (frame, settings text, seconds)
    error, set_error = solara.use_state(None)
    running, set_running = solara.use_state(False)
    cancel_event = solara.use_memo(threading.Event, [request])

    def change(i: int, spec: ScenarioSpec):
        set_specs(lambda old: [spec if j == i else s for j, s in enumerate(old)])

    def remove(i: int):
        set_specs(lambda old: [s for j, s in enumerate(old) if j != i])

    def add():
        names = [s.name for s in specs]
        base = common.preset(common.default_preset_name())
        set_specs(lambda old: old + [spec_from(base, unique_name(base.name, names))])

    def parse_citizens() -> int | None:
        text = str(citizens).strip()
        if not text:
            return None
        return P.check("n_citizens", text)

    def start():
        set_error(None)
        try:
            parse_citizens()
        except (P.ParamError, ValueError) as exc:
            set_error(common.one_line(exc))
            return
        set_request(lambda r: r + 1)

    def work(cancel: threading.Event):
        if request == 0:
            return
        set_running(True)
        progress.value = 0.0
        t0 = time.perf_counter()
        last = [0.0]

        def report(done: int, total: int):
            now = time.perf_counter()
            if now - last[0] > 0.25 or done == total:
                last[0] = now
                progress.value = 100.0 * done / total

        try:
            n = parse_citizens()
            frame = comparison.run_comparison(
                list(specs),
                int(reps),
                int(months),
                int(seed),
                n_citizens=n,
                progress=report,
                cancel=cancel_event,
            )
            took = time.perf_counter() - t0
            settings = f"{len(specs)} scenarios × {reps} replicates × {months} months" + (
                f" × {n:,} citizens" if n else ""
            )
            set_result((frame, settings, took))
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
        solara.HTML(tag="h2", unsafe_innerHTML="Compare scenarios")
        solara.Text(
            "Two to four scenarios, each run R times with different "
            "seeds (replicate r uses the same seed in every "
            "scenario, so differences are paired). Lines are means, shaded bands hold 90% of replicates.",
        )
        with solara.Columns([1] * len(specs)):
            for i, spec in enumerate(specs):
                SlotEditor(i, spec, change, remove, len(specs) > 2, [s.name for s in specs]).key(f"slot-{i}")
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
            with solara.Div(style={"width": "240px"}, classes=["civsim-reps"]):
                solara.SliderInt(f"Replicates: {reps}", value=reps, on_value=set_reps, min=2, max=64)
            with solara.Div(style={"width": "240px"}, classes=["civsim-months"]):
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
                )
            with solara.Div(style={"width": "90px"}):
                solara.InputText(
                    "Seed",
                    value=str(seed),
                    on_value=lambda t: set_seed(int(t)) if str(t).strip().isdigit() else None,
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
        if running:
            CompareProgress(progress)
        if error:
            solara.Error(error, classes=["civsim-error"])
        if result is None:
            return
        frame, settings, took = result
        ResultsView(frame, settings, took, metric, set_metric)


@solara.component
def CompareProgress(progress: solara.Reactive[float]):
    solara.ProgressLinear(value=progress.value)
    solara.Text(f"Running… {progress.value:.0f}%", classes=["civsim-progress"])


@solara.component
def ResultsView(frame: pd.DataFrame, settings: str, took: float, metric: str, set_metric):
    """Bands over time, the table of differences and the downloads."""
    b = solara.use_memo(lambda: comparison.bands(frame, metric), [id(frame), metric])
    diffs = solara.use_memo(lambda: comparison.differences(frame), [id(frame)])
    # stable callables: FileDownload forgets a pending click when its data argument changes
    data_csv = solara.use_memo(lambda: lambda: comparison.to_csv(frame), [id(frame)])
    diffs_csv = solara.use_memo(lambda: lambda: comparison.to_csv(diffs), [id(diffs)])
    labels = {v: k for k, v in METRICS.items()}
    with solara.Column(gap="12px", classes=["civsim-results"]):
        solara.Text(f"Results: {settings}, computed in {took:.1f} s.", classes=["civsim-result-info"])
        with solara.Row(gap="12px", style={"align-items": "center"}):
            solara.Select(
                "Measure",
                values=list(METRICS.values()),
                value=METRICS[metric],
                on_value=lambda lab: set_metric(labels[lab]),
                classes=["civsim-metric"],
            )
            solara.FileDownload(
                data_csv, filename="civsim-compare.csv", label="Download data (CSV)", mime_type="text/csv"
            )
        Chart(
            lambda: plots.band_figure(b, METRICS[metric], percent=metric in PERCENT),
            (id(frame), metric),
            "bands",
        )
        table = comparison.difference_table(diffs)
        if len(frame["scenario"].unique()) > 1:
            solara.HTML(
                tag="h3",
                unsafe_innerHTML="Differences from the reference (scenario A): mean [90% interval]",
            )
            solara.HTML(tag="div", unsafe_innerHTML=diff_table_html(table), classes=["civsim-diffs"])
            solara.FileDownload(
                diffs_csv,
                filename="civsim-differences.csv",
                label="Download differences (CSV)",
                mime_type="text/csv",
            )
