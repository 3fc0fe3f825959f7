"""Strategy (``/strategy``): which strategies hold up across futures, and when do they fail?

Pick two to six strategies (presets from ``experiments/strategy_austerity.toml``
or edited lever sets), choose the futures to test them against (a range for
each uncertainty), run every strategy in every future on the batch core
(paired seeds; progress bar and Cancel), then read the robustness table,
the plain-language conditions under which a chosen strategy fails (PRIM
boxes) with a scatter of futures coloured by success, and download the data,
the experiment file that reproduces the run and each strategy as a scenario.
All logic lives in :mod:`civsim.app.strategy_lab` and ``civsim.experiments``.
"""

from __future__ import annotations

import html
import threading
import time

import numpy as np
import pandas as pd
import solara

from civsim import params as P
from civsim.app import common
from civsim.app import strategy_lab as lab
from civsim.calibration.posterior import shipped_posteriors
from civsim.errors import UserError

METRICS = {
    "final_outcome_index": ("Outcome index at the end", True),
    "final_inclusion_gap": ("Inclusion gap at the end", False),
}


def _int_or(text: str, name: str, lo: int, hi: int) -> int:
    t = str(text).strip()
    if not t.isdigit() or not lo <= int(t) <= hi:
        raise UserError(f"{name}: {text!r} is not allowed: expected a whole number from {lo:,} to {hi:,}")
    return int(t)


@solara.component
def StrategyCard(
    index: int, s: lab.LabStrategy, lever_ranges, presets, on_change, on_remove, removable: bool
):
    def set_name(text: str):
        on_change(index, lab.LabStrategy(lab.clean_name(text), s.description, s.levers))

    def pick(name: str):
        for p in presets:
            if p.name == name:
                on_change(index, lab.LabStrategy(p.name, p.description, dict(p.levers)))

    def set_lever(name: str, value: float):
        on_change(index, lab.LabStrategy(s.name, s.description, {**s.levers, name: float(value)}))

    with solara.Div(
        classes=["civsim-panel", f"civsim-strategy civsim-strategy-{index}"], style={"padding": "10px"}
    ):
        with solara.Row(justify="space-between"):
            solara.Text(f"Strategy {index + 1}", style={"font-weight": "bold"})
            if removable:
                solara.Button(
                    icon_name="mdi-close",
                    icon=True,
                    on_click=lambda: on_remove(index),
                    classes=["civsim-remove"],
                )
        solara.InputText("Name", value=s.name, on_value=set_name)
        names = [p.name for p in presets]
        solara.Select(
            "Start from preset", values=names, value=s.name if s.name in names else None, on_value=pick
        )
        if s.description:
            solara.Text(s.description, style={"font-size": "0.85rem", "color": "#444", "display": "block"})
        defaults = P.defaults()
        for name, (lo, hi) in lever_ranges.items():
            value = float(s.levers.get(name, defaults[name]))
            with solara.Div(classes=[f"civsim-lever-{name}"]):
                solara.SliderFloat(
                    f"{name}: {value:.3g}",
                    value=min(max(value, lo), hi),
                    min=lo,
                    max=hi,
                    step=(hi - lo) / 100,
                    on_value=lambda v, n=name: set_lever(n, v),
                )


@solara.component
def Progress(progress: solara.Reactive[float]):
    solara.ProgressLinear(value=progress.value)
    solara.Text(f"Running… {progress.value:.0f}%", classes=["civsim-progress"])


def _robust_html(table: pd.DataFrame, tail: str, has_sat: bool) -> str:
    cols = ["mean", tail] + (["satisficing"] if has_sat else []) + ["max_regret"]
    head = "".join(
        f"<th style='text-align:left;padding:4px 10px'>{html.escape(c.replace('_', ' '))}</th>"
        for c in ["strategy", *cols]
    )
    rows = []
    for _, r in table.iterrows():
        cells = [html.escape(str(r["strategy"]))] + [
            f"{r[c]:.3f} [{r[c + '_lo']:.3f}, {r[c + '_hi']:.3f}]" for c in cols
        ]
        rows.append("<tr>" + "".join(f"<td style='padding:3px 10px'>{c}</td>" for c in cells) + "</tr>")
    return (
        "<table class='civsim-robust-table' style='border-collapse:collapse;font-size:0.9rem'>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _scatter(frame: pd.DataFrame, d, metric: str, ok_word: str):  # noqa: ANN001, ANN202
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    b = d.boxes[0] if d.boxes else None
    names = sorted(b.limits, key=lambda n: b.qp.get(n, 1.0)) if b else []
    names += [f for f in d.factors if f not in names]
    fx, fy = names[0], names[1] if len(names) > 1 else names[0]
    fig, ax = plt.subplots(figsize=(6, 4.4))
    y = d.y
    ax.scatter(d.x[fx][~y], d.x[fy][~y], s=14, color="#2a9d8f", label=ok_word)
    ax.scatter(d.x[fx][y], d.x[fy][y], s=14, color="#e63946", label="fails")
    if b is not None and b.limits:
        lx = b.limits.get(fx, (d.x[fx].min(), d.x[fx].max()))
        ly = b.limits.get(fy, (d.x[fy].min(), d.x[fy].max()))
        ax.add_patch(plt.Rectangle((lx[0], ly[0]), lx[1] - lx[0], ly[1] - ly[0], fill=False, lw=2, color="k"))
    ax.set_xlabel(fx)
    ax.set_ylabel(fy)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


@solara.component
def Results(spec: lab.LabSpec, frame: pd.DataFrame, took: float):
    from civsim.experiments.discovery import discover, sentences
    from civsim.experiments.robustness import robustness

    metric, set_metric = solara.use_state("final_outcome_index")
    label, higher = METRICS[metric]
    first = spec.strategies[0].name
    default_thr = float(frame[frame.strategy == first].groupby("future")[metric].mean().median())
    thr_text, set_thr_text = solara.use_state("")
    chosen, set_chosen = solara.use_state(first)
    try:
        thr = float(thr_text) if str(thr_text).strip() else default_thr
        thr_error = None if np.isfinite(thr) else "not a finite number"
    except ValueError:
        thr, thr_error = default_thr, f"threshold {thr_text!r} is not a number"
    r = solara.use_memo(
        lambda: robustness(
            frame,
            metric,
            higher_is_better=higher,
            threshold=thr,
            strategies=[s.name for s in spec.strategies],
            n_boot=200,
        ),
        [id(frame), metric, thr],
    )
    # stable callables: FileDownload forgets a pending click when its data argument changes
    data_csv = solara.use_memo(lambda: lambda: frame.to_csv(index=False), [id(frame)])
    exp_toml = solara.use_memo(lambda: lambda: lab.experiment_toml(spec), [id(spec)])
    scen_tomls = solara.use_memo(
        lambda: {s.name: (lambda s=s: lab.strategy_scenario_toml(spec, s)) for s in spec.strategies},
        [id(spec)],
    )
    n_fut = int(frame["future"].nunique())
    with solara.Column(gap="10px", classes=["civsim-strategy-results"]):
        solara.Text(
            f"Results: {len(spec.strategies)} strategies × {n_fut} futures × {spec.replicates} "
            f"replicate(s) × {spec.months} months × {spec.n_citizens:,} citizens, computed in {took:.1f} s"
            + (
                f"; each future draws its calibrated parameters from the posterior '{spec.posterior}'."
                if spec.posterior
                else "."
            ),
            classes=["civsim-result-info"],
        )
        with solara.Row(gap="12px", style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.Select(
                "Measure",
                values=[v[0] for v in METRICS.values()],
                value=label,
                on_value=lambda lab_: set_metric(next(k for k, v in METRICS.items() if v[0] == lab_)),
            )
            with solara.Div(style={"width": "220px"}, classes=["civsim-threshold"]):
                solara.InputText(
                    f"Threshold (default {default_thr:.3f})", value=thr_text, on_value=set_thr_text
                )
        if thr_error:
            solara.Error(thr_error)
        sign = ">=" if higher else "<="
        solara.Markdown(
            f"**Robustness** ({'higher' if higher else 'lower'} is better): satisficing = share of "
            f"futures with {label.lower()} {sign} {thr:.3f}; max regret against the best strategy "
            "in each future; [90% intervals over replicates]."
        )
        solara.HTML(
            tag="div", unsafe_innerHTML=_robust_html(r.table, r.tail_name, True), classes=["civsim-robust"]
        )
        for note in r.notes:
            solara.Text(f"Note: {note}.", style={"font-size": "0.85rem", "color": "#555", "display": "block"})
        solara.Select(
            "Strategy to examine",
            values=[s.name for s in spec.strategies],
            value=chosen,
            on_value=set_chosen,
            classes=["civsim-chosen"],
        )
        rows = frame[frame.strategy == chosen].groupby("future")[[*spec.ranges, metric]].mean()
        try:
            d = discover(
                rows[list(spec.ranges)],
                rows[metric].to_numpy(),
                metric=label.lower(),
                direction="below" if higher else "above",
                threshold=thr,
                noun="futures",
            )
            with solara.Div(classes=["civsim-boxes"]):
                solara.Markdown(f"**When does {html.escape(chosen)} fail?**")
                for text in sentences(d):
                    solara.Text(text, classes=["civsim-box-sentence"], style={"display": "block"})
            solara.FigureMatplotlib(_scatter(rows, d, metric, "meets the threshold"))
        except UserError as exc:
            solara.Info(f"{chosen}: {common.one_line(exc).split(': ', 1)[-1]}", classes=["civsim-boxes"])
        with solara.Row(gap="8px", style={"flex-wrap": "wrap"}):
            solara.FileDownload(
                data_csv, filename="civsim-strategy.csv", label="Download data (CSV)", mime_type="text/csv"
            )
            solara.FileDownload(
                exp_toml,
                filename="strategy_lab.toml",
                label="Download experiment (TOML)",
                mime_type="application/toml",
            )
            for s in spec.strategies:
                solara.FileDownload(
                    scen_tomls[s.name],
                    filename=f"{s.name}.toml",
                    label=f"Scenario: {s.name}",
                    mime_type="application/toml",
                )


@solara.component
def Strategy():
    start, lever_ranges = solara.use_memo(lab.default_spec, [])
    presets = solara.use_memo(lab.preset_strategies, [])
    strategies, set_strategies = solara.use_state(list(start.strategies))
    ranges, set_ranges = solara.use_state(dict(start.ranges))
    futures, set_futures = solara.use_state("200")
    reps, set_reps = solara.use_state("1")
    months, set_months = solara.use_state(str(start.months))
    citizens, set_citizens = solara.use_state(str(start.n_citizens))
    request, set_request = solara.use_state(0)
    progress = solara.use_reactive(0.0)
    result, set_result = solara.use_state(None)
    error, set_error = solara.use_state(None)
    running, set_running = solara.use_state(False)
    cancel_event = solara.use_memo(threading.Event, [request])
    shipped = solara.use_memo(shipped_posteriors, [])
    calibrated, set_calibrated = solara.use_state(False)

    def current_spec() -> lab.LabSpec:
        return lab.LabSpec(
            list(strategies),
            dict(ranges),
            _int_or(futures, "futures", 2, lab.MAX_FUTURES),
            _int_or(reps, "replicates", 1, 64),
            _int_or(months, "months", 1, 2400),
            _int_or(citizens, "citizens", 10, 200_000),
            start.seed,
            start.scenario,
            start.fixed,
            shipped[0] if calibrated and shipped else "",
        )

    def change(i: int, s: lab.LabStrategy):
        set_strategies(lambda old: [s if j == i else x for j, x in enumerate(old)])

    def remove(i: int):
        set_strategies(lambda old: [x for j, x in enumerate(old) if j != i])

    def add():
        taken = {s.name for s in strategies}
        new = next(
            (p for p in presets if p.name not in taken), lab.LabStrategy(f"strategy_{len(strategies) + 1}")
        )
        set_strategies(lambda old: old + [lab.LabStrategy(new.name, new.description, dict(new.levers))])

    def run():
        set_error(None)
        try:
            lab.validate(current_spec())
        except (UserError, P.ParamError, ValueError) as exc:
            set_error(common.one_line(exc))
            return
        set_request(lambda n: n + 1)

    def work(cancel: threading.Event):
        if request == 0:
            return
        set_running(True)
        progress.value = 0.0
        last = [0.0]

        def tick(done: int, total: int):
            now = time.perf_counter()
            if now - last[0] > 0.3 or done == total:
                last[0] = now
                progress.value = 100.0 * done / total

        t0 = time.perf_counter()
        try:
            spec = current_spec()
            frame = lab.run_lab(spec, tick, cancel_event)
            set_result((spec, frame, time.perf_counter() - t0))
        except lab.Cancelled:
            set_error("Cancelled.")
        except (UserError, P.ParamError, ValueError) as exc:
            set_error(common.one_line(exc))
        except Exception as exc:  # one line, never a traceback
            set_error(f"The run failed: {common.one_line(exc)}")
        finally:
            set_running(False)

    solara.use_thread(work, [request], intrusive_cancel=False)

    solara.Title("civsim · Strategy")
    with solara.Column(gap="12px", classes=["civsim-strategy-page"]):
        solara.HTML(tag="h2", unsafe_innerHTML="Which strategies hold up, and when do they fail?")
        solara.Text(
            "Each strategy runs in every future (the same futures and seeds for all, so differences "
            "are paired). The table ranks strategies by robustness; the sentences say in which futures "
            "the chosen strategy fails."
        )
        with solara.Columns([1] * len(strategies)):
            for i, s in enumerate(strategies):
                StrategyCard(
                    i, s, lever_ranges, presets, change, remove, len(strategies) > lab.MIN_STRATEGIES
                ).key(f"strategy-{i}")
        solara.Button(
            "Add strategy",
            icon_name="mdi-plus",
            on_click=add,
            classes=["civsim-add-strategy"],
            disabled=len(strategies) >= lab.MAX_STRATEGIES or running,
        )
        with solara.Details("Futures: ranges of the uncertainties"):
            if shipped:
                with solara.Div(classes=["civsim-lab-calibrated"]):
                    solara.Switch(
                        label=f"Calibrated: each future also draws the parameters of the posterior "
                        f"'{shipped[0]}' (they replace any range of theirs below)",
                        value=calibrated,
                        on_value=set_calibrated,
                        disabled=running,
                    )
            for name, (lo, hi) in ranges.items():
                p = P.SCHEMA[name]
                with solara.Div(classes=[f"civsim-range-{name}"]):
                    solara.SliderRangeFloat(
                        f"{name}: {lo:.3g} to {hi:.3g} ({p.help})",
                        value=(lo, hi),
                        min=float(p.min),
                        max=float(p.max),
                        step=(p.max - p.min) / 200,
                        on_value=lambda v, n=name: set_ranges(
                            lambda old: {**old, n: (float(v[0]), float(v[1]))}
                        ),
                    )
        with solara.Row(gap="16px", style={"align-items": "center", "flex-wrap": "wrap"}):
            for label, value, setter, cls in (
                ("Futures", futures, set_futures, "futures"),
                ("Replicates", reps, set_reps, "reps"),
                ("Months", months, set_months, "months"),
                ("Citizens per run", citizens, set_citizens, "citizens"),
            ):
                with solara.Div(style={"width": "140px"}, classes=[f"civsim-lab-{cls}"]):
                    solara.InputText(label, value=value, on_value=setter, continuous_update=True)
            if running:
                solara.Button(
                    "Cancel", icon_name="mdi-stop", on_click=cancel_event.set, classes=["civsim-cancel"]
                )
            else:
                solara.Button(
                    "Run strategies",
                    icon_name="mdi-play",
                    color="primary",
                    on_click=run,
                    classes=["civsim-strategy-run"],
                )
        if running:
            Progress(progress)
        if error:
            solara.Error(error, classes=["civsim-error"])
        if result is not None:
            spec, frame, took = result
            Results(spec, frame, took)
