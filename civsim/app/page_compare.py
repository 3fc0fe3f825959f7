"""Compare (``/compare``): two to four scenarios, R replicates each, bands and differences."""

from __future__ import annotations

import html
import threading
import time
from dataclasses import replace
from typing import Any

import pandas as pd
import solara

from civsim import params as P
from civsim.app import common, comparison, plots, workers
from civsim.app.comparison import METRICS, PERCENT, Cancelled, ScenarioSpec
from civsim.app.schema_ui import ParamControls, check_value, parse_seed
from civsim.app.upload import ScenarioUpload
from civsim.app.views import Chart
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


def file_name(name: str) -> str:
    """A safe file name for a scenario's TOML."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name.strip()) or "scenario"
    return f"{safe}.toml"


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


def diff_table_html(table: pd.DataFrame) -> str:
    """The table of differences as HTML; "(better)"/"(worse)" cells are coloured and bold."""
    cols = list(table.columns)
    head = "".join(
        f"<th scope='col' style='text-align:left;padding:4px 10px'>{html.escape(str(c))}</th>" for c in cols
    )
    rows = []
    for _, r in table.iterrows():
        cells = []
        for c in cols:
            text = str(r[c])
            cls = (
                " class='civsim-better'"
                if text.endswith("(better)")
                else (" class='civsim-worse'" if text.endswith("(worse)") else "")
            )
            cells.append(f"<td{cls} style='padding:3px 10px'>{html.escape(text)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return (
        "<table class='civsim-diff-table' style='border-collapse:collapse;font-size:0.9rem'>"
        "<caption style='text-align:left;caption-side:bottom;color:#374151;padding-top:6px'>"
        "Mean difference from the reference [90% interval]. “better” or “worse” when the whole interval "
        "lies on one side of zero (for the inclusion gap lower is better; budget has no better side)."
        "</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


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
        try:
            frame = comparison.run_comparison(
                run_specs,
                int(reps),
                int(months),
                seed,
                n_citizens=n_citizens,
                progress=report,
                cancel=cancel_event,
                workers=workers.default_workers(),
            )
            took = time.perf_counter() - t0
            text = (
                f"{len(run_specs)} scenarios × {reps} replicates × {months} months"
                + (f" × {n_citizens:,} citizens" if n_citizens else "")
                + f", seed {seed}"
            )
            set_result((frame, text, took, dict(settings), run_specs))
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


@solara.component
def ResultsView(
    frame: pd.DataFrame,
    text: str,
    took: float,
    metric: str,
    set_metric,
    run_settings: dict[str, Any],
    run_specs: list[ScenarioSpec],
):
    """Bands over time, each scenario's end means, the table of differences and the downloads."""
    b = solara.use_memo(lambda: comparison.bands(frame, metric), [id(frame), metric])
    diffs = solara.use_memo(lambda: comparison.differences(frame), [id(frame)])
    # stable callables: FileDownload forgets a pending click when its data argument changes
    data_csv = solara.use_memo(lambda: lambda: comparison.to_csv(frame), [id(frame)])
    diffs_csv = solara.use_memo(lambda: lambda: comparison.to_csv(diffs), [id(diffs)])
    labels = {v: k for k, v in METRICS.items()}
    with solara.Column(gap="12px", classes=["civsim-results"]):
        solara.HTML(tag="h2", unsafe_innerHTML="Results", style={"font-size": "1.3rem", "margin": "0"})
        solara.Text(f"Results: {text}, computed in {took:.1f} s.", classes=["civsim-result-info"])
        with solara.Row(gap="12px", style={"align-items": "center", "flex-wrap": "wrap"}):
            with solara.Div(style={"width": "320px", "max-width": "100%"}):
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
            lambda: plots.band_figure(b, METRICS[metric], percent=metric in PERCENT, uirevision=id(frame)),
            (id(frame), metric),
            "bands",
        )
        ends = comparison.end_means(frame)
        month = int(frame["step"].max())
        solara.HTML(
            tag="div",
            unsafe_innerHTML=end_table_html(ends, month, int(run_settings["reps"])),
            classes=["civsim-diffs", "civsim-ends"],
        )
        with solara.Row(
            gap="8px", style={"flex-wrap": "wrap", "align-items": "center"}, classes=["civsim-as-run"]
        ):
            solara.Text("Scenario files as run (civsim run FILE gives these numbers):")
            for i, spec in enumerate(run_specs):
                AsRunDownload(spec, run_settings, f"{chr(65 + i)}: {file_name(spec.name)}").key(f"as-run-{i}")
        if len(frame["scenario"].unique()) > 1:
            table = comparison.difference_table(diffs)
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


@solara.component
def AsRunDownload(spec: ScenarioSpec, settings: dict[str, Any], label: str):
    """A scenario file with the page's seed, months, replicates and citizens (stable download callable)."""
    data = solara.use_memo(lambda: lambda: spec.to_toml(**settings), [id(spec), repr(settings)])
    solara.FileDownload(data, filename=file_name(spec.name), label=label, mime_type="application/toml")


def end_table_html(ends: pd.DataFrame, month: int, reps: int) -> str:
    """Each scenario's mean over replicates at the last month (as ``civsim run`` prints them)."""
    cols = [c for c in ends.columns if c != "scenario"]
    head = "<th scope='col' style='text-align:left;padding:4px 10px'>scenario</th>" + "".join(
        f"<th scope='col' style='text-align:left;padding:4px 10px'>{html.escape(c)}</th>" for c in cols
    )
    rows = "".join(
        "<tr>"
        + f"<td style='padding:3px 10px'>{html.escape(str(r['scenario']))}</td>"
        + "".join(f"<td style='padding:3px 10px'>{float(r[c]):.3f}</td>" for c in cols)
        + "</tr>"
        for _, r in ends.iterrows()
    )
    return (
        "<table class='civsim-end-table' style='border-collapse:collapse;font-size:0.9rem'>"
        f"<caption style='text-align:left;font-weight:600;padding-bottom:4px'>At month {month}: mean of "
        f"{reps} replicates</caption><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
    )
