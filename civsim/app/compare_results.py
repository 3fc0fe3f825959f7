"""Compare's results (``/compare``): bands, end means, the table of differences and the downloads."""

from __future__ import annotations

import html
from typing import Any

import pandas as pd
import solara

from civsim.app import comparison, plots
from civsim.app.comparison import METRICS, PERCENT, ScenarioSpec
from civsim.app.views import Chart


def file_name(name: str) -> str:
    """A safe file name for a scenario's TOML."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name.strip()) or "scenario"
    return f"{safe}.toml"


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
            post = run_settings.get("posterior")
            command = f"civsim run FILE --posterior {post}" if post else "civsim run FILE"
            solara.Text(f"Scenario files as run ({command} gives these numbers):")
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
    run = {k: v for k, v in settings.items() if k != "posterior"}
    data = solara.use_memo(lambda: lambda: spec.to_toml(**run), [id(spec), repr(run)])
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
