"""Threads of the batch core outside its compiled loops: runs drawing their uniforms side by side."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

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
