"""Threads of the batch core outside its compiled loops: runs drawing their uniforms side by side,
and work a step hands to other threads while it goes on (:class:`Overlap`)."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

THREADED_DRAWS_MIN = 20_000
"""Citizens per run from which runs draw their uniforms on several threads (below, a thread's
hand-over costs more than the draws)."""

_pools: dict[tuple[int, int], ThreadPoolExecutor] = {}


def thread_pool(n: int) -> ThreadPoolExecutor:
    """A pool of ``n`` threads for this process.

    Keyed by process too: a forked child makes its own, as threads do not
    survive a fork. A pool starts its threads on first use, so one made by a
    concurrent caller and dropped by ``setdefault`` costs nothing.
    """
    key = (os.getpid(), n)
    pool = _pools.get(key)
    if pool is None:
        pool = _pools.setdefault(key, ThreadPoolExecutor(n, thread_name_prefix="civsim-draws"))
    return pool


class Overlap:
    """Jobs started on a pool's threads while the calling thread goes on; :meth:`join` waits for all.

    A step starts the jobs whose results it needs only at its end (or in the
    next step) and joins them before it returns, so between steps nothing
    runs in the background and the model can be copied or pickled.
    """

    def __init__(self, n: int):
        self._pool = thread_pool(n)
        self._jobs: list[Future[Any]] = []

    def start(self, fn: Callable[..., Any], *args: Any) -> None:
        self._jobs.append(self._pool.submit(fn, *args))

    def join(self) -> None:
        jobs, self._jobs = self._jobs, []
        for job in jobs:  # every job ends before an error is raised
            job.exception()
        for job in jobs:
            job.result()
