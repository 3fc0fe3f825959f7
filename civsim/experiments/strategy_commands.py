"""The strategy-lab commands: ``discover``, ``robust``, ``search`` and ``strategy-report``.

Thin typer fronts over :mod:`.discovery`, :mod:`.robustness`, :mod:`.search`
and :mod:`.writeup`; ``civsim sweep`` runs strategy experiments through
:func:`sweep_strategies`. Bad input: one ``error:`` line, exit status 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from civsim.errors import UserError
from civsim.experiments.commands import _guard


def sweep_strategies(exp, out: Path, workers, scheduler, backend: str, engine: str, quiet: bool) -> None:  # noqa: ANN001
    """Run a strategy experiment (called by ``civsim sweep``) and say what was done."""
    from civsim.experiments.commands import _echo_sweep
    from civsim.experiments.futures import run_strategies

    n = len(exp.strategies)
    typer.echo(
        f"{exp.name}: {n} strategies x {_n_futures(exp)} futures x {exp.base.replicates} replicates "
        f"(paired seeds) -> {out}"
    )
    res = run_strategies(
        exp,
        out,
        workers=workers,
        scheduler=scheduler,
        backend=backend,
        engine=engine,
        progress=not quiet and sys.stderr.isatty(),
    )
    for name, r in res.results.items():
        _echo_sweep(f"{exp.name}/{name}", r, hint=False)
    typer.echo(
        f"read it with: pandas.read_parquet({str(out)!r}) (a 'strategy' column), or "
        f"civsim.experiments.futures.load_strategy_results({str(out)!r}) (adds 'future' and the levers)"
    )
    typer.echo(
        f"analyse it with: civsim robust {out} --metric final_outcome_index; "
        f"civsim discover {out} --strategy {exp.strategies[0].name} --metric final_outcome_index --below X"
    )


def _n_futures(exp) -> int:  # noqa: ANN001
    from civsim.experiments.designs import expected_points

    return expected_points(exp.base.design, exp.base.factors)


def _default_out(data: Path, what: str) -> Path:
    return data / f"_{what}" if data.is_dir() else data.with_name(f"{data.stem}_{what}")


def _rows_for(
    ds, metric: str, factors: list[str], strategy: str | None, per_run: bool
) -> tuple[pd.DataFrame, str]:  # noqa: ANN001
    """Rows to analyse: one strategy's, averaged over replicates per future (unless per_run)."""
    frame = ds.frame
    if ds.kind == "strategies":
        if strategy is None and len(ds.strategies) > 1:
            raise UserError(
                f"{ds.source}: holds {len(ds.strategies)} strategies ({', '.join(ds.strategies)}); "
                "choose one with --strategy NAME"
            )
        name = strategy or ds.strategies[0]
        if name not in ds.strategies:
            raise UserError(
                f"{ds.source}: --strategy {name!r} is not in the results; "
                f"strategies: {', '.join(ds.strategies)}"
            )
        frame = frame[frame["strategy"] == name]
    elif strategy is not None:
        if "strategy" not in frame.columns:
            raise UserError(f"{ds.source}: --strategy given but the table has no 'strategy' column")
        frame = frame[frame["strategy"].astype(str) == strategy]
        if frame.empty:
            raise UserError(f"{ds.source}: --strategy {strategy!r}: no rows")
    key = "future" if "future" in frame.columns else ("point" if ds.kind == "sweep" else None)
    if per_run or key is None:
        return frame, ds.noun if key is None else "runs"
    cols = [c for c in dict.fromkeys([*factors, metric])]
    return frame.groupby(key, sort=True)[cols].mean().reset_index(), ds.noun


def discover(
    data: Annotated[Path, typer.Argument(help="Sweep or strategy directory, or a .csv/.parquet table.")],
    metric: Annotated[str, typer.Option("--metric", "-m", help="Column that defines the cases of interest.")],
    below: Annotated[float | None, typer.Option(help="Cases of interest: metric below this value.")] = None,
    above: Annotated[float | None, typer.Option(help="Cases of interest: metric above this value.")] = None,
    factors: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated factor columns (default: the "
            "uncertainties, the sweep's factors, or all other columns)."
        ),
    ] = None,
    method: Annotated[str, typer.Option(help="prim or cart.")] = "prim",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Where to write boxes.json and figures.")
    ] = None,
    strategy: Annotated[
        str | None, typer.Option(help="The strategy to analyse (strategy directories).")
    ] = None,
    min_density: Annotated[
        float, typer.Option(help="Box rule: most coverage among boxes at least this dense.")
    ] = 0.8,
    box: Annotated[
        int | None, typer.Option(help="PRIM: take this step of the peeling trajectory instead.")
    ] = None,
    boxes: Annotated[int, typer.Option(min=1, max=10, help="At most this many boxes.")] = 3,
    peel_alpha: Annotated[float, typer.Option(help="PRIM: share peeled per step.")] = 0.05,
    paste_alpha: Annotated[float, typer.Option(help="PRIM: share pasted per step.")] = 0.05,
    mass_min: Annotated[
        float, typer.Option(help="Smallest box (share of rows); CART's smallest leaf.")
    ] = 0.05,
    max_depth: Annotated[int, typer.Option(min=1, max=12, help="CART: depth of the tree.")] = 4,
    per_run: Annotated[
        bool, typer.Option(help="One row per run instead of per future (mean of replicates).")
    ] = False,
) -> None:
    """Scenario discovery: the factor ranges in which the metric falls below (or rises above) a threshold."""
    from civsim.experiments.discovery import discover as run_discovery
    from civsim.experiments.discovery import sentences
    from civsim.experiments.discovery_plots import write_discovery
    from civsim.experiments.tables import check_factors, check_metric, load_dataset

    with _guard():
        if (below is None) == (above is None):
            raise UserError(
                "give exactly one of --below X or --above X (the threshold of a case of interest)"
            )
        ds = load_dataset(data)
        check_metric(ds, metric)
        names = check_factors(
            ds, [f.strip() for f in factors.split(",") if f.strip()] if factors else None, metric
        )
        rows, noun = _rows_for(ds, metric, names, strategy, per_run)
        x = rows[names].astype(float)
        d = run_discovery(
            x,
            rows[metric].to_numpy(float),
            metric=metric,
            direction="below" if below is not None else "above",
            threshold=below if below is not None else above,  # type: ignore[arg-type]
            method=method,
            min_density=min_density,
            box=box,
            max_boxes=boxes,
            peel_alpha=peel_alpha,
            paste_alpha=paste_alpha,
            mass_min=mass_min,
            max_depth=max_depth,
            noun=noun,
        )
        target = out or _default_out(data, f"discover_{strategy + '_' if strategy else ''}{metric}")
        paths = write_discovery(d, target, max_depth=max_depth)
        typer.echo(
            f"{d.method.upper()} on {len(d.y)} {d.noun} ({d.n_cases} cases of interest), "
            f"factors: {', '.join(d.factors)}"
        )
        typer.echo(f"box rule: {d.rule}")
        for i, (s, b) in enumerate(zip(sentences(d), d.boxes, strict=True)):
            qp = ", ".join(f"{k} {v:.1e}" for k, v in sorted(b.qp.items(), key=lambda kv: kv[1]))
            typer.echo(f"box {i + 1}: {s}")
            typer.echo(
                f"       coverage {b.coverage:.2f}, density {b.density:.2f}, mass {b.mass:.2f}; "
                f"quasi-p: {qp or '-'}"
            )
        for n in d.notes:
            typer.echo(f"note: {n}", err=True)
        typer.echo(f"wrote {', '.join(str(p) for p in paths)}")


def robust(
    data: Annotated[
        Path, typer.Argument(help="Strategy directory, or a table with strategy and future columns.")
    ],
    metric: Annotated[str, typer.Option("--metric", "-m", help="Column to judge the strategies by.")],
    threshold: Annotated[
        float | None, typer.Option(help="Satisficing threshold (share of futures meeting it).")
    ] = None,
    higher_is_better: Annotated[
        bool, typer.Option("--higher-is-better/--lower-is-better", help="Direction of the metric.")
    ] = True,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Where to write robustness.csv and .png.")
    ] = None,
    boot: Annotated[int, typer.Option(min=0, max=100_000, help="Bootstrap draws over replicates.")] = 1000,
    level: Annotated[float, typer.Option(help="Interval level.")] = 0.9,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the bootstrap.")] = 0,
) -> None:
    """Per strategy: mean, 10th percentile, satisficing share and max regret, with bootstrap intervals."""
    from civsim.experiments.robustness import plot_robustness, robustness
    from civsim.experiments.tables import check_metric, load_dataset

    with _guard():
        if not 0 < level < 1:
            raise UserError(f"--level {level} is not allowed: expected a number in (0, 1)")
        ds = load_dataset(data)
        check_metric(ds, metric)
        r = robustness(
            ds.frame,
            metric,
            higher_is_better=higher_is_better,
            threshold=threshold,
            strategies=ds.strategies or None,
            n_boot=boot,
            level=level,
            seed=seed,
        )
        target = out or _default_out(data, f"robust_{metric}")
        target.mkdir(parents=True, exist_ok=True)
        r.table.to_csv(target / "robustness.csv", index=False)
        r.per_future.to_csv(target / "robustness_futures.csv", index=False)
        plot_robustness(r, target / "robustness.png")
        print_robustness(r)
        for n in r.notes:
            typer.echo(f"note: {n}", err=True)
        typer.echo(
            f"wrote {target / 'robustness.csv'}, {target / 'robustness_futures.csv'}, "
            f"{target / 'robustness.png'}"
        )


def print_robustness(r) -> None:  # noqa: ANN001 - Robustness
    """The robustness table, with intervals, on the terminal."""
    from rich.console import Console
    from rich.table import Table

    pct = int(round(100 * r.level))
    t = Table(
        title=f"{r.metric}: {r.n_futures} futures x {r.n_replicates} replicates "
        f"({'higher' if r.higher_is_better else 'lower'} is better; [{pct}% interval over replicates])"
    )
    t.add_column("strategy")
    cols = (
        ["mean", r.tail_name]
        + (["satisficing"] if r.threshold is not None else [])
        + ["max_regret", "mean_regret"]
    )
    heads = {}
    if r.threshold is not None:
        heads["satisficing"] = f"satisficing ({'>=' if r.higher_is_better else '<='} {r.threshold:g})"
    for c in cols:
        t.add_column(heads.get(c, c.replace("_", " ")), justify="right")
    for _, row in r.table.iterrows():
        t.add_row(
            str(row["strategy"]),
            *(f"{row[c]:.3f} [{row[c + '_lo']:.3f}, {row[c + '_hi']:.3f}]" for c in cols),
        )
    Console(width=140).print(t)


def register(app: typer.Typer) -> None:
    """Add ``discover``, ``robust``, ``search`` and ``strategy-report`` to a typer app."""
    app.command("discover")(discover)
    app.command("robust")(robust)
    from civsim.experiments.writeup import strategy_report

    app.command("strategy-report")(strategy_report)
    from civsim.experiments.search import search

    app.command("search")(search)
