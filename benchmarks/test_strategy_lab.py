"""The Strategy page's first answer without the browser (pytest-benchmark; `make bench`).

Issue 12's size: the page's default four strategies x 200 futures x 1
replicate x 2,000 citizens x 120 months (after the 240-month burn-in), on
every core, as the page runs it. The target is a minute on 2 cores.
"""

from civsim.app import strategy_lab


def test_strategy_lab_first_answer(benchmark):
    spec, _ = strategy_lab.default_spec()
    assert (len(spec.strategies), spec.n_futures, spec.n_citizens, spec.months) == (4, 200, 2000, 120)
    frame = benchmark.pedantic(lambda: strategy_lab.run_lab(spec), rounds=1, iterations=1)
    benchmark.extra_info["runs"] = len(frame)
    assert len(frame) == 4 * 200
