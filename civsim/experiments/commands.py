"""The ``sweep``, ``sensitivity`` and ``report`` commands (thin typer fronts).

All work is done by library calls: :func:`civsim.experiments.runner.run_sweep`,
:func:`civsim.experiments.sensitivity.analyse` and
:func:`civsim.experiments.report.make_report`. Bad input is printed as one
``error:`` line and exits with status 2; Ctrl-C during a sweep exits with
status 130 after saying how to resume.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from civsim.errors import UserError

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


@contextlib.contextmanager
def _guard() -> Iterator[None]:
    """Turn user errors into one line and exit 2; Ctrl-C into exit 130."""
    from civsim.experiments.runner import SweepInterrupted
    from civsim.params import ParamError

    try:
        yield
    except (UserError, ParamError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    except (SweepInterrupted, KeyboardInterrupt) as exc:
        typer.echo(str(exc) or "interrupted", err=True)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except OSError as exc:  # a read-only place, a full disk, a file where a directory is needed
        where = f"{exc.filename}: " if exc.filename else ""
        typer.echo(f"error: {where}{exc.strerror or exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    except MemoryError:
        typer.echo(
            "error: out of memory; use fewer points, a smaller chunk_size or fewer --workers", err=True
        )
        raise typer.Exit(EXIT_USAGE) from None


@contextlib.contextmanager
def _damaged(directory: Path | str) -> Iterator[None]:
    """Unexpected data in a results directory (a hand-edited manifest, odd columns): one line."""
    try:
        yield
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        from civsim.params import ParamError

        if isinstance(exc, (UserError, ParamError)):
            raise
        detail = str(exc).splitlines()[0][:120] if str(exc) else ""
        raise UserError(
            f"{directory}: the results or their manifest are damaged or not from this civsim version "
            f"({type(exc).__name__}{': ' + detail if detail else ''})"
        ) from None


def _check_to(to: Path | None) -> None:
    """``--to`` must be a directory (or not exist yet): refuse a file before any work."""
    if to is None:
        return
    for p in (to, *to.absolute().parents):
        if p.exists() and not p.is_dir():
            raise UserError(f"--to {to}: {p} is a file, not a directory; choose another --to")
        if p.exists():
            break


def _default_out(name: str) -> Path:
    return Path("runs") / name


def sweep(
    experiment: Annotated[str, typer.Argument(help="Experiment file, or the name of one in ./experiments/.")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Results directory (default: runs/<experiment name>).")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            "-w",
            min=1,
            help="Worker processes of a local Dask cluster on 127.0.0.1 "
            "(default: all cores; 1 runs in this process).",
        ),
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Use an existing Dask cluster, e.g. tcp://host:8786.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    backend: Annotated[str, typer.Option(hidden=True, help="auto, inline, process or dask.")] = "auto",
    engine: Annotated[str, typer.Option(hidden=True, help="Engine: batch (or toy, for tests).")] = "batch",
) -> None:
    """Run every point x replicate of an experiment into a Parquet dataset.

    Rerunning the same command after an interruption runs only what is
    missing; pointing a changed experiment at an existing directory is refused.
    """
    from civsim.experiments.runner import run_sweep

    with _guard():
        from civsim.experiments.futures import StrategyExperiment, load_any_experiment

        exp = load_any_experiment(experiment)
        if isinstance(exp, StrategyExperiment):  # uncertainties x strategies: one sweep per strategy
            from civsim.experiments.strategy_commands import sweep_strategies

            sweep_strategies(exp, out or _default_out(exp.name), workers, scheduler, backend, engine, quiet)
            return
        target = out or _default_out(exp.name)
        res = run_sweep(
            exp,
            target,
            workers=workers,
            scheduler=scheduler,
            backend=backend,
            engine=engine,
            progress=not quiet and sys.stderr.isatty(),
        )
        _echo_sweep(exp.name, res)


def _echo_sweep(name: str, res, hint: bool = True) -> None:  # noqa: ANN001 - SweepResult
    from civsim.experiments.sweep_progress import _si

    for chunk, why in sorted(res.damaged.items()):
        typer.echo(f"redid damaged chunk {chunk} of {res.out}: {why}", err=True)
    if res.runs_run == 0:
        typer.echo(f"sweep {name}: all {res.n_runs} runs already in {res.out}; nothing to do")
    else:
        where = f"{res.backend}, {res.workers} worker{'s' if res.workers != 1 else ''}"
        typer.echo(
            f"sweep {name}: {res.runs_run} of {res.n_runs} runs in {res.seconds:.1f} s "
            f"({_si(res.citizen_steps_per_second)} citizen-steps/s, {where}) -> {res.out}"
        )
    if hint:
        typer.echo(f"read it with: pandas.read_parquet({str(res.out)!r})")


def sensitivity(
    experiment_or_dir: Annotated[
        str,
        typer.Argument(
            help="A results directory of a sobol/morris sweep, or an experiment file to sweep first."
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Results directory when sweeping an experiment (default: runs/<name>)."
        ),
    ] = None,
    to: Annotated[
        Path | None,
        typer.Option("--to", help="Where to write sensitivity.csv/.png (default: DIR/_sensitivity)."),
    ] = None,
    metric: Annotated[
        list[str] | None,
        typer.Option("--metric", "-m", help="Output to analyse (repeatable; default: all that vary)."),
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", "-w", min=1, help="Workers if a sweep is needed.")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Dask scheduler if a sweep is needed.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Sobol first/total-order indices (or Morris mu*/sigma) with 95% intervals: CSV and PNG."""
    from civsim.experiments.runner import run_sweep
    from civsim.experiments.sensitivity import analyse, write_sensitivity
    from civsim.experiments.spec import load_experiment
    from civsim.experiments.storage import MANIFEST

    with _guard():
        _check_to(to)
        src = Path(experiment_or_dir)
        if src.is_dir() and (src / MANIFEST).is_file():
            directory = src
        elif src.is_dir():
            raise UserError(
                f"{src}: not a civsim sweep directory (no {MANIFEST}); "
                "give a results directory or an experiment file"
            )
        else:
            exp = load_experiment(experiment_or_dir)
            directory = out or _default_out(exp.name)
            res = run_sweep(
                exp,
                directory,
                workers=workers,
                scheduler=scheduler,
                progress=not quiet and sys.stderr.isatty(),
            )
            _echo_sweep(exp.name, res)
        from civsim.experiments.results import load_results

        with _damaged(directory):
            result = analyse(directory, metric or None)
            manifest, _ = load_results(directory)
            write_sensitivity(result, to or directory / "_sensitivity", title=manifest["experiment"]["name"])
        _echo_indices(result)
        for name, why in result.skipped.items():
            typer.echo(f"skipped {name}: {why}", err=True)
        typer.echo(f"wrote {result.csv} and {result.png}")


def _echo_indices(result) -> None:  # noqa: ANN001 - SensitivityResult
    from rich.console import Console
    from rich.table import Table

    t = result.table
    key = "ST" if result.method == "sobol" else "mu_star"
    cols = (
        ["S1", "S1_conf", "ST", "ST_conf"]
        if result.method == "sobol"
        else ["mu_star", "mu_star_conf", "sigma", "mu"]
    )
    table = Table(title=f"{result.method} indices (conf: half-width of 95% interval)", show_lines=False)
    table.add_column("metric")
    table.add_column("factor")
    for c in cols:
        table.add_column(c, justify="right")
    for m, sub in t.groupby("metric", sort=False):
        for _, r in sub.sort_values(key, ascending=False).iterrows():
            table.add_row(str(m), str(r["factor"]), *(f"{r[c]:.3f}" for c in cols))
    Console(width=120).print(table)


def report(
    directory: Annotated[Path, typer.Argument(help="Results directory of a finished sweep.")],
    to: Annotated[
        Path | None,
        typer.Option("--to", help="Where to write figures and summary.md (default: DIR/_report)."),
    ] = None,
    metric: Annotated[
        list[str] | None,
        typer.Option(
            "--metric", "-m", help="Output to plot (repeatable; default: final value of each metric)."
        ),
    ] = None,
) -> None:
    """Figures of each output against each factor (bands across replicates) and a Markdown summary."""
    from civsim.experiments.report import make_report

    with _guard(), _damaged(directory):
        _check_to(to)
        res = make_report(directory, to, metric or None)
        typer.echo(f"wrote {len(res.figures)} figures and {res.markdown}")


def register(app: typer.Typer) -> None:
    """Add the ``sweep``, ``sensitivity`` and ``report`` commands to a typer app."""
    app.command("sweep")(sweep)
    app.command("sensitivity")(sensitivity)
    app.command("report")(report)


def standalone_app() -> typer.Typer:
    """A typer app with only these commands (``python -m civsim.experiments``)."""
    app = typer.Typer(
        add_completion=False, no_args_is_help=True, help="civsim experiments: sweep, sensitivity, report."
    )
    register(app)
    return app
