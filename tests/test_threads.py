"""Threads in the batch core: any number gives the same bits as one (civsim.kernels).

The compiled loops give each thread whole runs for the sums, so every run is
still summed in citizen order; the per-citizen decisions split the citizens.
A loop that split one run's sums between threads, or accumulated them in
another order, would change the last bits of the sums (and so, within a few
months, of trust, cohesion and outcomes) and fail here. Citizens are stored
neighbourhood by neighbourhood, so the second case has five neighbourhoods
and three runs: two threads splitting the citizens in halves would then
share a neighbourhood of the middle run, not just meet at a boundary.
"""

from __future__ import annotations

import copy

import numba
import numpy as np
import pytest

from civsim import kernels
from civsim.batch import BatchModel
from civsim.errors import UserError
from civsim.params import resolve
from civsim.seeding import replicate_sequences

two_threads = pytest.mark.skipif(
    numba.config.NUMBA_NUM_THREADS < 2, reason="numba runs one thread here (NUMBA_NUM_THREADS)"
)

STATE = ("engaged", "trust", "member", "engaged_ties", "outcomes", "net_resources", "net_cohesion", "ally")


def run(threads: int, params: dict, runs: int, steps: int = 24) -> BatchModel:
    point = resolve({**params, "burn_in": 0})
    return BatchModel([point] * runs, replicate_sequences(7, runs), threads=threads).run(steps)


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")


@two_threads
@pytest.mark.parametrize(
    ("params", "runs"), [({"n_citizens": 3000}, 4), ({"n_citizens": 1001, "n_neighbourhoods": 5}, 3)]
)
def test_two_threads_record_exactly_what_one_thread_records(params, runs):
    one, two = run(1, params, runs), run(2, params, runs)
    assert (one.threads, two.threads) == (1, 2)
    a, b = one.frame(), two.frame()
    assert list(a.columns) == list(b.columns) and len(a) == len(b) == runs * 25
    for column in a.columns:
        assert same_bits(a[column].to_numpy(), b[column].to_numpy()), column
    for name in STATE:
        assert same_bits(getattr(one, name), getattr(two, name)), name
    for key, value in one._agg.items():
        assert same_bits(value, two._agg[key]), key


@two_threads
def test_a_copy_between_steps_continues_exactly_on_any_threads():
    """On several threads a step counts engaged ties and draws the next step's numbers on another
    thread while it goes on; both end with the step, so a copy (a room's counterfactual year)
    continues with the same bits, on two threads or on one, as a model that ran on one throughout."""
    params = {"n_citizens": 3000}
    original = run(2, params, 3, steps=5)
    twin = copy.deepcopy(original)
    twin.threads = 1  # its first step uses the numbers drawn ahead
    one = run(1, params, 3, steps=17)
    a, b = original.run(12), twin.run(12)
    for model in (a, b):
        for column in one.frame().columns:
            assert same_bits(model.frame()[column].to_numpy(), one.frame()[column].to_numpy()), column
        for name in STATE:
            assert same_bits(getattr(model, name), getattr(one, name)), name


def test_civsim_threads_sets_the_default(monkeypatch):
    monkeypatch.setenv(kernels.THREADS_ENV, "1")
    assert kernels.thread_count() == 1
    assert BatchModel([resolve({"n_citizens": 200, "burn_in": 0})], replicate_sequences(0, 1)).threads == 1
    monkeypatch.setenv(kernels.THREADS_ENV, "64")
    assert kernels.thread_count() == numba.config.NUMBA_NUM_THREADS  # never more than numba has
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv(kernels.THREADS_ENV, bad)
        with pytest.raises(UserError, match=kernels.THREADS_ENV):
            kernels.thread_count()


def test_default_follows_numba_and_the_block_restores_it(monkeypatch):
    monkeypatch.delenv(kernels.THREADS_ENV, raising=False)
    big = kernels.PARALLEL_MIN_CITIZENS
    assert kernels.thread_count(citizens=big - 1) == 1  # small batches: one thread
    assert kernels.thread_count(citizens=big) == kernels.thread_count() == numba.get_num_threads()
    assert kernels.thread_count(2, citizens=10) == min(2, numba.config.NUMBA_NUM_THREADS)  # asked: given
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        assert kernels.thread_count() == 1
        with kernels.threads(numba.config.NUMBA_NUM_THREADS) as n:
            assert numba.get_num_threads() == n == numba.config.NUMBA_NUM_THREADS
        assert numba.get_num_threads() == 1
    finally:
        numba.set_num_threads(before)
