"""The ``ablation`` and ``levers`` commands (thin typer fronts).

All work is done by library calls: :func:`civsim.experiments.ablation.run_ablation`
and :func:`civsim.experiments.levers.run_levers`. Bad input is printed as one
``error:`` line and exits with status 2; Ctrl-C exits with status 130.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

import typer

from civsim.errors import UserError

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="Output directory (default: runs/<name>).")]
WorkersOpt = Annotated[
    int | None,
    typer.Option(
        "--workers",
        "-w",
        min=1,
        help="Worker processes of a local Dask cluster on 127.0.0.1 (default 1: this process).",
    ),
]
SchedulerOpt = Annotated[
    str | None, typer.Option("--scheduler", help="Use an existing Dask cluster, e.g. tcp://host:8786.")
]
BlocksOpt = Annotated[
    int | None, typer.Option("--blocks", min=2, help="Independent seed blocks (default: the file's).")
]
RepsOpt = Annotated[
    int | None, typer.Option("--replicates", "-r", min=1, help="Replicates per block (default: the file's).")
]
StepsOpt = Annotated[int | None, typer.Option("--steps", min=1, help="Months per run (default: the file's).")]
CitizensOpt = Annotated[
    int | None, typer.Option("--citizens", min=10, help="Citizens per run (sets n_citizens).")
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]


@contextlib.contextmanager
def _guard() -> Iterator[None]:
    """User errors: one line and exit 2; Ctrl-C: exit 130."""
    from civsim.params import ParamError

    try:
        yield
    except (UserError, ParamError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise typer.Exit(EXIT_INTERRUPTED) from None


@contextlib.contextmanager
def _progress(label: str, quiet: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar over runs on stderr (None when quiet or not a terminal)."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("runs"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def ablation(
    experiment: Annotated[str, typer.Argument(help="Ablation file, or the name of one in ./experiments/.")],
    out: OutOpt = None,
    doc: Annotated[
        Path | None,
        typer.Option("--doc", help="Also write the Markdown report here (e.g. docs/ablation.md)."),
    ] = None,
    blocks: BlocksOpt = None,
    replicates: RepsOpt = None,
    steps: StepsOpt = None,
    citizens: CitizensOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Effect of each pattern over seed blocks, intact and with each mechanism switched off.

    Writes ablation.csv, runs.csv, manifest.json and ablation.md to --out.
    """
    from civsim.experiments.ablation import fmt_effect, run_ablation, write_ablation
    from civsim.experiments.ablation_spec import load_ablation

    with _guard():
        exp = load_ablation(experiment, blocks=blocks, replicates=replicates, steps=steps, citizens=citizens)
        t0 = time.perf_counter()
        with _progress(f"ablation {exp.name}", quiet) as bar:
            res = run_ablation(exp, workers=workers or 1, scheduler=scheduler, progress=bar)
        paths = write_ablation(res, out or Path("runs") / exp.name, doc)
        for row in res.rows:
            if not row.ablation:
                typer.echo(
                    f"{row.pattern.name:<28} {fmt_effect(row.effect)}  "
                    f"{'consistent' if row.effect.consistent else 'mixed':<10} {row.verdict}"
                )
        typer.echo(
            f"{res.stats.runs:,} runs in {time.perf_counter() - t0:.1f} s; wrote {', '.join(map(str, paths))}"
        )


def levers(
    experiment: Annotated[str, typer.Argument(help="Lever file, or the name of one in ./experiments/.")],
    out: OutOpt = None,
    doc: Annotated[
        Path | None, typer.Option("--doc", help="Also write the Markdown report here (e.g. docs/levers.md).")
    ] = None,
    figures: Annotated[
        Path | None,
        typer.Option("--figures", help="Also write the figures here (e.g. docs/experiments/levers_oat)."),
    ] = None,
    blocks: BlocksOpt = None,
    replicates: RepsOpt = None,
    steps: StepsOpt = None,
    citizens: CitizensOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """One lever at a time: each lever's effect on the outcomes vs its baseline value, with intervals.

    Writes levers.csv, runs.csv, manifest.json, levers.md and one figure per outcome to --out.
    """
    from civsim.experiments.levers import load_levers, run_levers, write_levers

    with _guard():
        exp = load_levers(experiment, blocks=blocks, replicates=replicates, steps=steps, citizens=citizens)
        t0 = time.perf_counter()
        with _progress(f"levers {exp.name}", quiet) as bar:
            res = run_levers(exp, workers=workers or 1, scheduler=scheduler, progress=bar)
        paths = write_levers(res, out or Path("runs") / exp.name, doc=doc, figures=figures)
        flagged = res.noise_levers()
        for outcome, names in flagged.items():
            typer.echo(f"{outcome}: within replicate noise at every value: {', '.join(names) or 'none'}")
        typer.echo(
            f"{res.stats.runs:,} runs in {time.perf_counter() - t0:.1f} s; wrote {', '.join(map(str, paths))}"
        )


def register(app: typer.Typer) -> None:
    """Add the ``ablation`` and ``levers`` commands to a typer app."""
    app.command("ablation")(ablation)
    app.command("levers")(levers)
