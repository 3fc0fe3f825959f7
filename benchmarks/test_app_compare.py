"""The Compare page's computation without the browser (pytest-benchmark; `make bench`).

Three presets x R = 32 x 5,000 citizens x 120 months, as issue 13 measured it:
one process, and spread over the app's process pool (identical results). The
browser's own time for the same comparison is printed by
``tests/browser/test_app_ux.py::test_compare_in_the_browser_against_the_same_computation_outside``.
"""

import pytest

from civsim.app import comparison, workers
from civsim.app.page_compare import spec_from
from civsim.scenario import load_scenario, preset_names

NAMES = [n for n in ("baseline", "austerity", "austerity_whole_system") if n in preset_names()]


@pytest.mark.parametrize("n_workers", [1, workers.default_workers()])
def test_compare_computation(benchmark, n_workers):
    specs = [spec_from(load_scenario(n)) for n in NAMES]
    if n_workers > 1:
        workers.warm()
    benchmark.extra_info["workers"] = n_workers
    benchmark.pedantic(
        lambda: comparison.run_comparison(specs, 32, 120, 0, n_citizens=5000, workers=n_workers),
        rounds=1,
        iterations=1,
    )
