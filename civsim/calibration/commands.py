"""The ``civsim calibrate`` command: a thin typer front over
:func:`civsim.calibration.pipeline.calibrate`."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

import typer

from civsim.errors import UserError


@contextlib.contextmanager
def _bars(enabled: bool) -> Iterator[Callable[[str, int], Callable[[int], None]] | None]:
    """A rich progress display; yields a factory ``(label, total) -> advance(n)``."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("runs"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    ) as bar:

        def factory(label: str, total: int) -> Callable[[int], None]:
            task = bar.add_task(label, total=total)
            return lambda n: bar.advance(task, n)

        yield factory


def calibrate(
    file: Annotated[Path, typer.Argument(help="Calibration TOML (see docs/calibration.md).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Results directory (rerun to resume).")],
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", "-w", min=1, help="Worker processes (default: all cores; 1 runs in this process)."
        ),
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Use an existing Dask cluster, e.g. tcp://host:8786.")
    ] = None,
    budget: Annotated[
        int | None, typer.Option("--budget", min=1, help="Most model runs to use (history matching + ABC).")
    ] = None,
    docs: Annotated[
        Path | None,
        typer.Option(
            "--docs", help="Also write the report as DIR/calibration.md with figures in DIR/figures/."
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
    backend: Annotated[str, typer.Option(hidden=True, help="auto, inline, process or dask.")] = "auto",
) -> None:
    """Calibrate to data: history matching with GP emulators, then ABC-SMC; write posterior and report."""
    from civsim.calibration.pipeline import calibrate as run
    from civsim.calibration.spec import load_calibration
    from civsim.params import ParamError

    if backend not in ("auto", "inline", "process", "dask"):
        typer.echo(
            f"error: --backend {backend!r} is not allowed: expected auto, inline, process or dask", err=True
        )
        raise typer.Exit(2)
    try:
        spec = load_calibration(file)
        with _bars(not quiet and sys.stderr.isatty()) as bars:
            res = run(
                spec, out, workers=workers, scheduler=scheduler, budget=budget, backend=backend, progress=bars
            )
        if docs is not None:
            from civsim.calibration.pipeline import summarise
            from civsim.calibration.report import write_report

            docs.mkdir(parents=True, exist_ok=True)
            write_report(res, summarise(res), docs)
    except (UserError, ParamError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        typer.echo(
            f"interrupted: finished runs are saved in {out}; run the same command again to resume", err=True
        )
        raise typer.Exit(130) from None
    typer.echo(
        f"calibration {spec.name}: {res.runs_total} runs ({res.runs_simulated} this session) "
        f"in {res.seconds:.1f} s; "
        f"ABC stopped: {res.abc.stopped}"
    )
    if res.abc.generations:
        typer.echo(f"wrote {res.out / 'posterior.parquet'}, {res.out / 'report.md'}")
    else:
        typer.echo(f"no posterior: see {res.out / 'report.md'} for the closest fit")


def register(app: typer.Typer) -> None:
    """Add ``calibrate`` to a typer app."""
    app.command("calibrate")(calibrate)
