"""A small process pool for the Compare page: the runs of a comparison spread over the cores.

The batch core runs in one thread, so a comparison (scenarios x replicates)
would use one core of the machine. Its runs are independent and a
replicate's random stream does not depend on which runs share its batch
(``SeedSequence(seed, spawn_key=(rep,))``), so the work is cut into chunks of
replicates, one process each, and the chunks' frames are put back in order:
the result is identical, bit for bit, to one process running everything.

One pool per server process, shared by every session (it holds no session
state: each task carries its parameters and returns its frame). Workers are
forked from a ``forkserver`` that has already imported the batch core, so a
task starts in milliseconds. Progress comes back through a queue every few
months; cancelling sets the job's flag, which workers check each month.
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

import pandas as pd

from civsim import seeding
from civsim.batch import BatchModel
from civsim.params import resolve

SLOTS = 256
"""Cancel flags: job ``j`` uses slot ``j % SLOTS``."""
REPORT_EVERY = 3
"""Months between progress messages from a worker."""

_queue: Any = None
_flags: Any = None


def default_workers() -> int:
    """Processes to use: ``$CIVSIM_APP_WORKERS`` or the number of cores (at most 8)."""
    env = os.environ.get("CIVSIM_APP_WORKERS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, min(8, os.cpu_count() or 1))


def chunks(reps: int, parts: int) -> list[tuple[int, int]]:
    """Split replicates ``0..reps-1`` into ``parts`` contiguous ``(lo, hi)`` ranges of near-equal size."""
    parts = max(1, min(parts, reps))
    base, extra = divmod(reps, parts)
    out, lo = [], 0
    for i in range(parts):
        hi = lo + base + (1 if i < extra else 0)
        out.append((lo, hi))
        lo = hi
    return out


def run_chunk(
    point: dict[str, Any],
    lo: int,
    hi: int,
    steps: int,
    seed: int,
    on_month: Callable[[int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    draws: list[dict[str, float]] | None = None,
) -> pd.DataFrame | None:
    """Replicates ``lo..hi-1`` of one scenario for ``steps`` months (``rep`` numbered from ``lo``).

    ``draws[r]``, when given, are replicate r's parameters drawn from a
    posterior (they replace the scenario's). Returns None if ``cancelled()``
    became true.
    """
    seeds = [seeding.run_sequence(seed, (r,)) for r in range(lo, hi)]
    points = [resolve({**point, **draws[r]}) if draws else dict(point) for r in range(lo, hi)]
    model = BatchModel(points, seeds)
    for t in range(steps):
        if cancelled is not None and cancelled():
            return None
        model.step()
        if on_month is not None:
            on_month(t + 1)
    f = model.frame().rename(columns={"run": "rep"})
    f["rep"] += lo
    return f


def _init(queue: Any, flags: Any, owner: int) -> None:  # pragma: no cover (runs in the worker)
    global _queue, _flags
    _queue, _flags = queue, flags
    # a worker is the forkserver's child, not the server's, and holds its own end of the task
    # queue: it would outlive a server that was killed. It leaves when the server is gone.
    threading.Thread(target=_exit_with, args=(owner,), name="civsim-owner-watch", daemon=True).start()


def _exit_with(owner: int) -> None:  # pragma: no cover (runs in the worker)
    import time

    while True:
        time.sleep(2.0)
        try:
            os.kill(owner, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:  # alive, owned by someone else
            pass


def _task(  # pragma: no cover
    job: int, task: int, point: dict, lo: int, hi: int, steps: int, seed: int, draws=None
):
    slot = job % SLOTS

    def on_month(m: int) -> None:
        if m % REPORT_EVERY == 0 or m == steps:
            _queue.put((job, task, m))

    return run_chunk(point, lo, hi, steps, seed, on_month, lambda: _flags[slot] == job, draws)


def _noop() -> int:  # pragma: no cover
    return os.getpid()


class Pool:
    """The server's worker processes, their progress queue and cancel flags."""

    def __init__(self, workers: int):
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["civsim.app.workers"])
        self.workers = workers
        self.queue = ctx.Queue()
        self.flags = ctx.Array("q", SLOTS, lock=False)
        self.executor = ProcessPoolExecutor(
            workers, mp_context=ctx, initializer=_init, initargs=(self.queue, self.flags, os.getpid())
        )
        self._listeners: dict[int, Callable[[int, int], None]] = {}
        self._lock = threading.Lock()
        self._jobs = itertools.count(1)
        threading.Thread(target=self._route, name="civsim-compare-progress", daemon=True).start()

    def _route(self) -> None:
        while True:
            try:
                job, task, months = self.queue.get()
            except (EOFError, OSError):  # the pool is gone
                return
            with self._lock:
                listener = self._listeners.get(job)
            if listener is not None:
                listener(task, months)

    def new_job(self, listener: Callable[[int, int], None]) -> int:
        job = next(self._jobs)
        with self._lock:
            self._listeners[job] = listener
        self.flags[job % SLOTS] = 0
        return job

    def end_job(self, job: int) -> None:
        with self._lock:
            self._listeners.pop(job, None)

    def cancel(self, job: int) -> None:
        self.flags[job % SLOTS] = job

    def submit(
        self, job: int, task: int, point: dict, lo: int, hi: int, steps: int, seed: int, draws=None
    ) -> Future:
        return self.executor.submit(_task, job, task, point, lo, hi, steps, seed, draws)


_pool: Pool | None = None
_pool_lock = threading.Lock()


def get_pool(workers: int | None = None) -> Pool:
    """The shared pool (started on first use)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = Pool(workers or default_workers())
        return _pool


def reset_pool() -> None:
    """Forget a broken pool (a worker died); the next call to :func:`get_pool` starts a new one."""
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.executor.shutdown(wait=False, cancel_futures=True)
        _pool = None


def warm() -> None:
    """Start the workers now (the Compare page calls this when it opens), so Run is quick."""
    pool = get_pool()
    futures = [pool.executor.submit(_noop) for _ in range(pool.workers)]
    for f in futures:
        f.result(timeout=120)
