"""The sweep's progress bar on stderr: runs done, citizen-steps per second, ETA."""

from __future__ import annotations

import math


class _ProgressBar:
    """A rich progress bar over runs, with citizen-steps/s and ETA."""

    def __init__(self, name: str, total: int, done: int) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("runs"),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self.task = self.progress.add_task(f"sweep {name}", total=total, completed=done, rate="")

    def start(self) -> None:
        self.progress.start()

    def stop(self) -> None:
        self.progress.stop()

    def update(self, done: int, rate: float) -> None:
        self.progress.update(self.task, completed=done, rate=f"{_si(rate)} citizen-steps/s")


def _si(x: float) -> str:
    if not math.isfinite(x) or x <= 0:
        return "-"
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if x >= scale:
            return f"{x / scale:.2f}{unit}"
    return f"{x:.0f}"
