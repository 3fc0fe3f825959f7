"""The shipped experiments' analyses: Watts' analytic window and the tipping line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from civsim.experiments.shipped import (
    cascade_frequency,
    tipping_line,
    vulnerable_degree,
    watts_condition,
    watts_window,
)


@pytest.mark.parametrize(
    "phi,low,high",
    [
        (0.18, 1.0, 5.8),  # Watts (2002): z from about 1 to about 5.8
        (0.12, 1.0, 10.7),  # 1 to about 10.7
    ],
)
def test_watts_window_matches_the_published_numbers(phi, low, high):
    lo, hi = watts_window(phi)
    assert lo == pytest.approx(low, abs=0.05)
    assert hi == pytest.approx(high, abs=0.1)


def test_no_cascades_above_a_quarter():
    assert watts_window(0.25) is not None
    for phi in (0.26, 0.3, 0.5):
        assert watts_window(phi) is None


def test_condition_is_the_degree_sum():
    """z P[Poisson(z) <= K*-2] > 1 equals sum_{k <= K*} k(k-1) P(k) > z, checked by brute force."""
    from scipy.stats import poisson

    for z in (0.8, 2.0, 4.5, 7.0):
        for phi in (0.1, 0.15, 0.2, 0.24):
            k = np.arange(0, vulnerable_degree(phi) + 1)
            direct = float(np.sum(k * (k - 1) * poisson.pmf(k, z))) - z
            assert watts_condition(z, phi) == pytest.approx(direct, abs=1e-12)
    assert vulnerable_degree(0.2) == 5 and vulnerable_degree(0.1) == 10 and vulnerable_degree(0.18) == 5


def test_cascade_frequency_counts_runs_over_the_share():
    runs = pd.DataFrame(
        {
            "mean_degree": [2.0, 2.0, 2.0, 2.0, 8.0, 8.0],
            "threshold_mean": [0.18] * 6,
            "final_engagement": [0.9, 0.0001, 0.95, 0.05, 0.0001, 0.0001],
        }
    )
    f = cascade_frequency(runs).set_index("mean_degree")
    assert f.loc[2.0, "frequency"] == 0.5 and f.loc[2.0, "runs"] == 4
    assert f.loc[8.0, "frequency"] == 0.0


def test_tipping_line_interpolates_the_midpoint_crossing():
    rows = []
    for y in (0.0, 1.0):
        for x, v in zip(
            (0.0, 0.1, 0.2, 0.3), (0.8, 0.8, 0.2, 0.2) if y == 0 else (0.8, 0.8, 0.8, 0.6), strict=True
        ):
            rows.append({"barrier": x, "outreach": y, "eng": v})
    line = tipping_line(pd.DataFrame(rows), "barrier", "outreach", "eng").set_index("outreach")
    assert line.loc[0.0, "barrier"] == pytest.approx(0.15)  # 0.8 -> 0.2 crosses 0.5 halfway
    assert np.isnan(line.loc[1.0, "barrier"])  # never falls below the midpoint
