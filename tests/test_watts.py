"""Watts (2002): global cascades on Poisson random graphs.

With the ``watts`` preset every mechanism but threshold contagion is off, one
random citizen is engaged at the start and every threshold is 0.18. On a
Poisson random graph of mean degree z, global cascades are possible inside a
window of z from about 1 to about 5.8 (the sum over k <= 1/phi of
k (k - 1) P(k) exceeds z). Their frequency is close to the size of the
"extended vulnerable cluster" (the giant cluster of vulnerable citizens, with
k <= 1/phi, plus its neighbours), computed here from generating functions.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.stats import poisson

from civsim.batch import BatchModel
from civsim.params import resolve
from civsim.scenario import load_scenario
from civsim.seeding import run_sequence

N = 10_000
RUNS = 40
PHI = 0.18
GLOBAL = 0.5


def watts_window_condition(z: float, phi: float) -> float:
    """Watts' cascade condition: sum_{k <= 1/phi} k (k - 1) P(k) - z (> 0 inside the window)."""
    k = np.arange(400)
    p = poisson.pmf(k, z)
    vulnerable = (k > 0) & (1.0 / np.maximum(k, 1) >= phi)
    return float(np.sum(k * (k - 1) * p * vulnerable) - z)


def extended_vulnerable_cluster(z: float, phi: float) -> float:
    """Expected share of seeds that start a global cascade (Watts 2002, generating functions).

    u is the chance that an edge leads to a finite vulnerable cluster:
    ``u = 1 - G1(1) + G1(u)`` with ``G1(x) = sum_k k rho_k p_k x^(k-1) / z``;
    a seed starts a global cascade unless all its edges lead to finite
    clusters: ``1 - sum_k p_k u^k``.
    """
    k = np.arange(400)
    p = poisson.pmf(k, z)
    rho = ((k > 0) & (1.0 / np.maximum(k, 1) >= phi)).astype(float)

    def g1(x):
        return np.sum(k * rho * p * x ** np.maximum(k - 1, 0)) / z

    def f(u):
        return 1.0 - g1(1.0) + g1(u) - u

    grid = np.linspace(0.0, 1.0, 4001)
    vals = np.array([f(u) for u in grid])
    u = 1.0
    for i in range(grid.size - 1):
        if vals[i] == 0.0:
            u = grid[i]
            break
        if vals[i] * vals[i + 1] < 0:
            u = brentq(f, grid[i], grid[i + 1])
            break
    return float(max(0.0, 1.0 - np.sum(p * u**k)))


def cascades(z: float) -> tuple[np.ndarray, np.ndarray]:
    """Final engagement and engagement 10 steps earlier, for RUNS runs of the watts preset at degree z."""
    scen = load_scenario("watts")
    params = resolve({**scen.params, "n_citizens": N, "mean_degree": z})
    assert params["threshold_mean"] == PHI and params["threshold_sd"] == 0.0 and params["seed_engaged"] == 1
    seeds = [run_sequence(2002, (int(round(z * 10)), r)) for r in range(RUNS)]
    steps = scen.steps
    frame = BatchModel([params] * RUNS, seeds).run(steps).frame()
    end = frame[frame.step == steps].sort_values("run")["engagement"].to_numpy()
    before = frame[frame.step == steps - 10].sort_values("run")["engagement"].to_numpy()
    start = frame[frame.step == 0]["engagement"].to_numpy()
    assert np.allclose(start, 1 / N), "exactly one seed citizen"
    return end, before


def test_theory_window():
    """The generating-function results reproduce the window quoted in the brief (z ~1 to ~5.8 at phi 0.18)."""
    assert watts_window_condition(0.9, PHI) < 0 < watts_window_condition(1.2, PHI)
    assert watts_window_condition(5.7, PHI) > 0 > watts_window_condition(5.9, PHI)
    assert extended_vulnerable_cluster(3.0, PHI) > 0.8
    assert extended_vulnerable_cluster(10.0, PHI) == 0.0
    assert extended_vulnerable_cluster(0.5, PHI) == 0.0


def test_preset_is_watts_setting():
    p = load_scenario("watts").resolved
    assert p["n_citizens"] == N and p["n_neighbourhoods"] == 1
    assert p["mean_degree"] == 3.0 and p["bridge_share"] == 0.0 and p["tie_clustering"] == 0.0
    assert not p["networks_enabled"] and not p["alliances_enabled"] and not p["coordination_enabled"]
    assert p["burnout_rate"] == 0.0 and p["spontaneous_rate"] == 0.0 and p["outreach"] == 0.0
    assert p["capacity_mean"] == 1.0 and p["capacity_sd"] == 0.0 and p["trust_engagement_weight"] == 0.0


@pytest.mark.parametrize("z", [3.0])
def test_cascades_inside_window(z):
    end, before = cascades(z)
    share = float(np.mean(end > GLOBAL))
    predicted = extended_vulnerable_cluster(z, PHI)
    sd = np.sqrt(predicted * (1 - predicted) / RUNS)
    assert share >= 0.25, f"z={z}: global cascades in {share:.0%} of runs"
    assert abs(share - predicted) <= 3 * sd + 0.05, (
        f"z={z}: {share:.2f} of runs cascade, theory {predicted:.2f}"
    )
    # bimodal: a run either stays tiny or takes most of the locality, and has settled
    assert np.all((end < 0.05) | (end > 0.8)), f"intermediate cascade sizes: {np.sort(end)}"
    assert np.all(end[end > GLOBAL] - before[end > GLOBAL] < 0.01), "cascades still spreading at the end"


@pytest.mark.parametrize("z", [0.5, 1.0, 10.0])
def test_no_cascades_outside_window(z):
    end, _ = cascades(z)
    share = float(np.mean(end > GLOBAL))
    assert share <= 0.02, f"z={z}: global cascades in {share:.0%} of runs (max engagement {end.max():.3f})"
    if z >= 10:
        # above the window single seeds die out at once: every tie needs >= 2 engaged ties
        assert end.max() < 0.01
