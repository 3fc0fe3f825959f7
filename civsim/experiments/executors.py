"""Executors for sweeps: in this process, a process pool, or a Dask cluster.

One code path serves every backend: each yields a
``concurrent.futures.Executor`` (or None for in-process), so the sweep runner
submits the same chunk tasks and gets the same results, bit for bit.

- ``process``: a local ``ProcessPoolExecutor`` (spawned workers ignore SIGINT);
- ``dask``: ``Client.get_executor()`` on a ``LocalCluster`` of single-threaded
  worker processes bound to 127.0.0.1 without a dashboard, or on an existing
  cluster at a scheduler address.

Two details matter for speed and for Ctrl-C: Dask's nanny starts workers with
``MALLOC_TRIM_THRESHOLD_=65536``, which makes numpy-heavy code 2-3 times slower
(:func:`tune_malloc` undoes it, and the local cluster is started without it);
and workers start with SIGINT ignored, so Ctrl-C stops the sweep in the main
process instead of printing tracebacks from every worker.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor

from civsim.errors import UserError

SCHEDULER_TIMEOUT = "10s"
"""How long to try reaching a ``--scheduler`` before giving up."""


def available_cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


_MALLOC_TUNED = False


def tune_malloc() -> bool:
    """Undo a fixed ``MALLOC_TRIM_THRESHOLD_`` in this process (Linux, glibc).

    Dask's nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536``. Setting
    it switches off glibc's adaptive mmap threshold, so every large numpy
    temporary is mapped and unmapped afresh and its pages faulted in again:
    the batch core then runs 2-3 times slower. When the variable is set, this
    raises the mmap threshold to 32 MiB and the trim threshold to 128 MiB (once
    per process). Returns True if it changed anything.
    """
    global _MALLOC_TUNED
    if _MALLOC_TUNED or not os.environ.get("MALLOC_TRIM_THRESHOLD_") or not sys.platform.startswith("linux"):
        return False
    _MALLOC_TUNED = True
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        return bool(
            libc.mallopt(m_mmap_threshold, 32 * 2**20) and libc.mallopt(m_trim_threshold, 128 * 2**20)
        )
    except (OSError, AttributeError):  # not glibc
        return False


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def _environ_kept() -> Iterator[None]:
    """Restore ``os.environ`` afterwards: Dask's nanny writes its worker settings
    (``OMP_NUM_THREADS=1``, ...) into the parent's environment when it spawns."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore SIGINT while starting child processes (they inherit it); main thread only."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


@contextlib.contextmanager
def open_executor(backend: str, workers: int, scheduler: str | None = None) -> Iterator[Executor | None]:
    """Yield an executor for a backend (None for ``inline``).

    Raises
    ------
    UserError
        When the Dask scheduler cannot be reached.
    """
    if backend == "inline":
        yield None
        return
    if backend == "process":
        ctx = multiprocessing.get_context("spawn")
        ex = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_ignore_sigint)
        try:
            yield ex
        except BaseException:
            for proc in list(getattr(ex, "_processes", {}).values()):  # stop work in flight
                with contextlib.suppress(Exception):
                    proc.terminate()
            ex.shutdown(wait=False, cancel_futures=True)
            raise
        ex.shutdown(wait=True)
        return
    import dask
    from distributed import Client, LocalCluster

    cluster = None
    if scheduler:
        try:
            client = Client(scheduler, timeout=SCHEDULER_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as exc:
            raise UserError(
                f"--scheduler {scheduler}: cannot connect to a Dask scheduler there ({exc})"
            ) from None
    else:
        # see tune_malloc(): keep glibc's adaptive thresholds in the workers; workers
        # start with SIGINT ignored, so Ctrl-C stops the sweep here, not inside them
        with (
            dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}),
            _sigint_ignored(),
            _environ_kept(),
        ):
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                # no dashboard; the scheduler's small HTTP server on a free local port, not 8787
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                silence_logs=logging.ERROR,
            )
        client = Client(cluster)
    try:
        yield client.get_executor(pure=False)
    finally:
        with contextlib.suppress(Exception):
            client.close()
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close()
