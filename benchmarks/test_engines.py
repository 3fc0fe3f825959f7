"""Engine benchmarks (pytest-benchmark): `make bench` or `pytest benchmarks --benchmark-only`.

Figures are citizen-steps per second on the default scenario; `civsim bench`
prints the same grid as a table (or JSON) with the batch/Mesa ratio measured
in one run.
"""

import pytest

from civsim import kernels
from civsim.batch import BatchModel
from civsim.bench import warm_up
from civsim.model import CivicModel
from civsim.params import resolve
from civsim.seeding import replicate_sequences

STEPS = 120


@pytest.mark.parametrize("citizens", [2_000, 10_000])
def test_mesa_engine(benchmark, citizens):
    """Mesa engine, default scenario, 120 months."""
    p = resolve({"n_citizens": citizens, "burn_in": 0})
    warm_up("mesa")
    benchmark.extra_info["citizen_steps"] = citizens * STEPS
    benchmark.pedantic(lambda: CivicModel(p, seed=0).run(STEPS), rounds=1, iterations=1)
    benchmark.extra_info["citizen_steps_per_s"] = citizens * STEPS / benchmark.stats.stats.mean
    benchmark.extra_info["threads"] = 1


@pytest.mark.parametrize("citizens,batch", [(2_000, 1), (2_000, 32), (10_000, 8), (100_000, 8)])
def test_batch_core(benchmark, citizens, batch):
    """Batch core, default scenario, 120 months for B runs."""
    p = resolve({"n_citizens": citizens, "burn_in": 0})
    warm_up("batch")
    benchmark.pedantic(
        lambda: BatchModel([p] * batch, replicate_sequences(0, batch)).run(STEPS), rounds=1, iterations=1
    )
    benchmark.extra_info["citizen_steps_per_s"] = citizens * batch * STEPS / benchmark.stats.stats.mean
    benchmark.extra_info["threads"] = kernels.thread_count()  # the batch core's default, used above
