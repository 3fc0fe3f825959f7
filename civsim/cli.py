"""The ``civsim`` command line: a thin typer front over the library.

User errors print one line (``error: ...``) and exit with status 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from civsim.calibration.commands import register as register_calibration_commands
from civsim.errors import UserError
from civsim.experiments.commands import register as register_experiment_commands
from civsim.experiments.paired_commands import register as register_paired_commands
from civsim.params import SCHEMA, STRANDS, schema_records

app = typer.Typer(
    help="civsim: an agent-based simulation of civic partnership.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err = Console(stderr=True)


def fail(message: str) -> None:
    """Print a user error on one line and exit with status 2."""
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


@app.command()
def run(
    scenario: Annotated[
        str, typer.Argument(help="Preset name (see `civsim scenarios`) or path to a scenario TOML file.")
    ],
    steps: Annotated[
        int | None, typer.Option(min=1, max=2400, help="Months to simulate (default: the scenario's, 120).")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(min=0, max=2**63 - 1, help="Seed (default: the scenario's, 0).")
    ] = None,
    citizens: Annotated[
        int | None, typer.Option(min=10, help="Number of citizens (sets n_citizens).")
    ] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override a parameter: --set key=value (repeatable).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Output directory.")] = Path("runs/latest"),
    format_: Annotated[str, typer.Option("--format", help="Time series format: csv or parquet.")] = "csv",
    engine: Annotated[
        str, typer.Option(help="mesa or batch (default: batch when --reps > 1, else mesa).")
    ] = "auto",
    reps: Annotated[
        int | None,
        typer.Option(min=1, max=10000, help="Replicates (seeds from --seed; default: the scenario's, 1)."),
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Replace --out even if it holds something other than a civsim run.")
    ] = False,
    posterior: Annotated[
        Path | None,
        typer.Option(
            help="Calibration directory, or a shipped posterior's name (volunteering): each replicate "
            "draws its parameters from the posterior."
        ),
    ] = None,
    decisions: Annotated[
        Path | None,
        typer.Option(help="Decisions file of a workshop room: its changes at their months (either engine)."),
    ] = None,
) -> None:
    """Run a scenario; write timeseries, summary.json, manifest.json and a plot to --out."""
    from civsim import scenario as sc
    from civsim import simulate

    if format_ not in ("csv", "parquet"):
        fail(f"--format {format_!r} is not allowed: expected csv or parquet")
    if engine not in ("auto", "mesa", "batch"):
        fail(f"--engine {engine!r} is not allowed: expected mesa or batch")
    try:
        scen = sc.load_scenario(scenario)
        pairs = list(set_ or [])
        if citizens is not None:
            pairs.append(f"n_citizens={citizens}")
        scen = sc.apply_overrides(scen, pairs)
    except UserError as exc:
        fail(str(exc))
    n_steps = steps if steps is not None else scen.steps
    run_seed = seed if seed is not None else scen.seed
    reps = reps if reps is not None else scen.replicates
    params = scen.resolved
    chosen = engine if engine != "auto" else ("batch" if reps > 1 else "mesa")
    post = None
    if posterior is not None:  # calibrated runs: the batch core, one posterior draw per replicate
        from civsim.calibration.posterior import load_posterior

        if engine == "mesa":
            fail("--posterior runs on the batch core: drop --engine mesa")
        try:
            post = load_posterior(posterior)
        except UserError as exc:
            fail(str(exc))
        chosen = "batch"
    plan = None
    if decisions is not None:  # workshop rooms (civsim.rooms): replay a session's decisions
        from civsim.rooms.plan import load_decisions

        if post is not None:
            fail("--decisions with --posterior is not allowed: replay a session or draw from a posterior")
        chosen = engine if engine != "auto" else "batch"  # a room runs on the batch core; Mesa docks exactly
        try:
            plan = load_decisions(
                decisions,
                int(params["n_agencies"]),
                n_steps,
                int(params["n_neighbourhoods"]),
                tuple(params["domains"]),
            )
        except UserError as exc:
            fail(str(exc))
    try:  # checked before anything is simulated or allocated
        _check_run(int(params["n_citizens"]), reps, n_steps, chosen)
        tmp = simulate.check_destination(out, force)
    except UserError as exc:
        fail(str(exc))
    try:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeRemainingColumn(),
            console=err,
            transient=True,
        ) as bar:
            task = bar.add_task(f"{scen.name} ({chosen})", total=n_steps * (reps if chosen == "mesa" else 1))
            if post is None:
                ts, summaries = simulate.simulate(
                    params,
                    run_seed,
                    n_steps,
                    reps,
                    chosen,
                    progress=lambda done, total: bar.update(task, completed=done),
                    before_step=plan,
                )
            else:
                from civsim.calibration.posterior import simulate_posterior

                ts, summaries, draws = simulate_posterior(
                    params,
                    post,
                    run_seed,
                    n_steps,
                    reps,
                    lambda done, total: bar.update(task, completed=done),
                )
    except UserError as exc:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
        fail(str(exc))
    except BaseException:  # Ctrl-C or a failure: leave no temporary directory behind
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
        raise
    manifest = {
        "scenario": {
            "name": scen.name,
            "description": scen.description,
            "source": scen.source,
            "overrides": scen.params,
        },
        "params": params,
        "seed": run_seed,
        "steps": n_steps,
        "reps": reps,
        "engine": chosen,
        "seeds": "SeedSequence(seed)" if reps == 1 else "SeedSequence(seed, spawn_key=(rep,))",
        "decisions": str(decisions) if decisions is not None else None,
        "command": " ".join(["civsim"] + sys.argv[1:]),
        "versions": simulate.versions(),
    }
    if post is not None:
        rule = "replicate r uses posterior draw r"
        manifest["posterior"] = {**post.describe(), "draws": draws, "rule": rule}
    try:
        paths = simulate.write_outputs(out, ts, summaries, manifest, format_, tmp=tmp)
    except UserError as exc:
        fail(str(exc))
    console.print(summary_table(scen.name, ts, summaries, reps))
    console.print(f"wrote {', '.join(str(p) for p in paths)}")


def _check_run(n_citizens: int, reps: int, steps: int, engine: str) -> None:
    """Refuse a run whose memory estimate exceeds the budget (see civsim.limits)."""
    from civsim import limits

    limits.check(
        limits.run_bytes(n_citizens, reps, steps, engine),
        f"civsim run: {n_citizens:,} citizens x {reps:,} run(s) x {steps} months ({engine})",
        "use fewer --reps or --citizens",
    )


def summary_table(name: str, ts, summaries, reps: int) -> Table:
    """Rich table of the headline metrics: start, end and mean (with a 90% interval for replicates)."""
    from civsim.metrics import SUMMARY_SERIES
    from civsim.simulate import interval_table

    main = list(SUMMARY_SERIES)
    table = Table(title=f"civsim {name}: {reps} run(s), {int(ts['step'].max())} months")
    table.add_column("metric")
    table.add_column("start", justify="right")
    if reps == 1:
        table.add_column("end", justify="right")
        table.add_column("mean", justify="right")
        first, last = ts[ts.step == 0].iloc[0], ts[ts.step == ts.step.max()].iloc[0]
        for m in main:
            table.add_row(m, f"{first[m]:.3f}", f"{last[m]:.3f}", f"{summaries[f'mean_{m}'].iloc[0]:.3f}")
        s = summaries.iloc[0]
        if s["n_shocks"]:
            rec = (
                "not yet"
                if s["shock_recovery_months"] != s["shock_recovery_months"]
                else f"{s['shock_recovery_months']:.0f} months"
            )
            table.add_row("shock dip / recovery", "", f"{s['shock_dip']:.3f}", rec)
    else:
        table.add_column("end mean", justify="right")
        table.add_column("90% interval", justify="right")
        start = ts[ts.step == 0][main].mean()
        iv = interval_table(summaries, [f"final_{m}" for m in main]).set_index("metric")
        for m in main:
            r = iv.loc[f"final_{m}"]
            table.add_row(m, f"{start[m]:.3f}", f"{r['mean']:.3f}", f"[{r['p5']:.3f}, {r['p95']:.3f}]")
    return table


@app.command()
def scenarios() -> None:
    """List the scenario presets with what each shows."""
    from civsim import scenario as sc

    table = Table(title="civsim scenario presets")
    table.add_column("name")
    table.add_column("description")
    try:
        for s in sc.list_presets():
            table.add_row(s.name, s.description)
    except UserError as exc:
        fail(str(exc))
    console.print(table)


@app.command()
def params(
    json_: Annotated[
        bool, typer.Option("--json", help="Print the schema as JSON records for tools.")
    ] = False,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the schema as a Markdown table (as in docs/ODD.md).")
    ] = False,
    strand: Annotated[str | None, typer.Option(help="Only this strand's parameters.")] = None,
) -> None:
    """Print the parameter schema (name, type, default, range, unit, strand, help)."""
    if markdown:
        from civsim.params import markdown_table

        sys.stdout.write(markdown_table())
        return
    if strand is not None and strand not in STRANDS:
        fail(f"--strand {strand!r} is not allowed: expected one of {', '.join(STRANDS)}")
    records = [r for r in schema_records() if strand is None or r["strand"] == strand]
    if json_:
        sys.stdout.write(json.dumps(records, indent=2) + "\n")
        return
    table = Table(title="civsim parameters")
    for c in ("name", "type", "default", "range", "unit", "strand", "help"):
        table.add_column(c, overflow="fold")
    for r in records:
        rng = "" if r["min"] is None else f"[{r['min']:g}, {r['max']:g}]"
        if r["choices"]:
            rng = " | ".join(r["choices"])
        default = ", ".join(r["default"]) if isinstance(r["default"], list) else str(r["default"])
        table.add_row(r["name"], r["type"], default, rng, r["unit"], r["strand"], r["help"])
    console.print(table)


@app.command()
def validate(
    file: Annotated[str, typer.Argument(help="Scenario TOML file (or preset name) to check.")],
) -> None:
    """Check a scenario file; print what it sets, or one clear error (exit 2)."""
    from civsim import scenario as sc

    try:
        s = sc.load_scenario(file)
    except UserError as exc:
        fail(str(exc))
    console.print(
        f"[green]ok[/]: {s.source}: {s.name} "
        f"({len(s.params)} parameter(s) set, seed {s.seed}, {s.steps} steps)"
    )
    for k, v in s.params.items():
        console.print(f"  {k} = {v!r}  [dim]({SCHEMA[k].help})[/]")


@app.command()
def bench(
    quick: Annotated[bool, typer.Option(help="Small sizes only; finishes within a minute.")] = False,
    json_: Annotated[bool, typer.Option("--json", help="Print records as JSON.")] = False,
    threads: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Threads for the batch core (default: $CIVSIM_THREADS, else all cores numba uses "
            "from 100,000 citizens a step, one below).",
        ),
    ] = None,
) -> None:
    """Measure both engines: citizen-steps per second and bytes per citizen per run, with the threads used."""
    from civsim import bench as bm

    try:
        records = bm.run_benchmarks(quick=quick, log=None if json_ else err.print, threads=threads)
    except UserError as exc:
        fail(str(exc))
    if json_:
        sys.stdout.write(json.dumps(records, indent=2) + "\n")
        return
    console.print(bm.table(records))


@app.command("app")
def app_(
    host: Annotated[str, typer.Option(help="Interface to listen on (127.0.0.1: this machine only).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to serve on.")] = 8765,
) -> None:
    """Serve the web app: Explore (/), Compare (/compare), Workshop (/workshop)."""
    from civsim.app.server import serve

    try:
        serve(host, port)
    except UserError as exc:
        fail(str(exc))


register_experiment_commands(app)
from civsim.experiments.strategy_commands import register as register_strategy_commands  # noqa: E402

register_strategy_commands(app)
register_paired_commands(app)  # ablation, levers
register_calibration_commands(app)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except UserError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise SystemExit(2) from None
    except MemoryError:  # the estimate in civsim.limits was too low: still one line, never a traceback
        err.print(
            "[bold red]error:[/] out of memory; use fewer citizens, replicates or workers, "
            "or lower CIVSIM_MEMORY_LIMIT so such runs are refused up front",
            highlight=False,
            soft_wrap=True,
        )
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
