"""Engine benchmarks: citizen-steps per second and memory per citizen per run.

Used by ``civsim bench`` and the pytest-benchmark suite in ``benchmarks/``.
Both engines are measured in the same process, one after the other, so their
ratio is meaningful on a shared, noisy machine. Every record says how many
threads the engine used: the batch core's compiled loops run on
:func:`civsim.kernels.thread_count` threads unless told otherwise (by
default one below 100,000 citizens a step); the Mesa engine runs on one.
Every record also gives the machine's load average (1 minute) when it was
taken: on a machine shared with other work the figures are only comparable
at similar load.
"""

from __future__ import annotations

import os
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from rich.table import Table

from civsim.batch import BatchModel
from civsim.model import CivicModel
from civsim.params import resolve
from civsim.seeding import replicate_sequences


def measure(
    engine: str,
    citizens: int,
    batch: int = 1,
    steps: int = 24,
    seed: int = 0,
    threads: int | None = None,
) -> dict[str, Any]:
    """Time ``steps`` months of the default scenario and measure peak memory.

    Returns a record with ``engine``, ``citizens``, ``batch``, ``threads``
    (the batch core's: ``threads`` or its default; the Mesa engine: 1),
    ``steps``, ``seconds`` (stepping only, world building excluded),
    ``citizen_steps_per_s``, ``bytes_per_citizen_run`` (peak traced
    allocation while building and stepping, divided by citizens x runs) and
    ``load`` (the 1-minute load average just before the timed steps).
    """
    p = resolve({"n_citizens": citizens, "burn_in": 0})  # steps are timed; burn-in would only add setup
    warm_up(engine)
    tracemalloc.start()
    if engine == "mesa":
        model: Any = CivicModel(p, seed=seed)
        used = 1
    else:
        model = BatchModel([p] * batch, replicate_sequences(seed, batch), threads=threads)
        used = model.threads
    model.step()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    for _ in range(steps):
        model.step()
    seconds = time.perf_counter() - t0
    runs = 1 if engine == "mesa" else batch
    return {
        "engine": engine,
        "citizens": citizens,
        "batch": runs,
        "threads": used,
        "steps": steps,
        "seconds": seconds,
        "citizen_steps_per_s": citizens * runs * steps / seconds,
        "bytes_per_citizen_run": peak / (citizens * runs),
        "load": load,
    }


def warm_up(engine: str) -> None:
    """Step a tiny model once, so that compiling the kernels (first use in a
    process, or after the rules change) is not counted as the model's time or memory."""
    p = resolve({"n_citizens": 200, "burn_in": 0})
    if engine == "mesa":
        CivicModel(p, seed=0).step()
    else:
        BatchModel([p], replicate_sequences(0, 1)).step()


def run_benchmarks(
    quick: bool = False, log: Callable[[str], None] | None = None, threads: int | None = None
) -> list[dict[str, Any]]:
    """The benchmark grid: Mesa at each N, the batch core at each N x B; adds ``ratio_vs_mesa``.

    ``threads``: the batch core's threads (None: its default).
    """
    if quick:
        sizes, batches, mesa_steps, batch_steps = [2_000, 10_000], [1, 8], {2_000: 6, 10_000: 3}, 12
    else:
        sizes, batches, mesa_steps, batch_steps = (
            [2_000, 10_000, 100_000],
            [1, 8, 32],
            {2_000: 24, 10_000: 12, 100_000: 3},
            24,
        )
    records = []
    for n in sizes:
        if log:
            log(f"mesa N={n}")
        mesa = measure("mesa", n, 1, mesa_steps[n])
        records.append({**mesa, "ratio_vs_mesa": 1.0})
        for b in batches:
            if log:
                log(f"batch N={n} B={b}")
            steps = batch_steps if n * b < 1_000_000 else max(6, batch_steps // 4)
            rec = measure("batch", n, b, steps, threads=threads)
            rec["ratio_vs_mesa"] = rec["citizen_steps_per_s"] / mesa["citizen_steps_per_s"]
            records.append(rec)
    return records


def table(records: list[dict[str, Any]]) -> Table:
    """Rich table of benchmark records."""
    t = Table(title="civsim engine benchmarks (default scenario)")
    columns = (
        "engine",
        "citizens",
        "batch",
        "threads",
        "steps",
        "citizen-steps/s",
        "x Mesa",
        "bytes/citizen/run",
        "load",
    )
    for c in columns:
        t.add_column(c, justify="right")
    for r in records:
        t.add_row(
            r["engine"],
            f"{r['citizens']:,}",
            str(r["batch"]),
            str(r["threads"]),
            str(r["steps"]),
            f"{r['citizen_steps_per_s']:.3g}",
            f"{r['ratio_vs_mesa']:.0f}",
            f"{r['bytes_per_citizen_run']:.0f}",
            f"{r['load']:.2f}",
        )
    return t
