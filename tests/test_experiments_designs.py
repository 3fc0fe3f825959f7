"""Designs produce the right points: grid, list, Latin hypercube, Sobol, Morris."""

from __future__ import annotations

import math

import numpy as np
import pytest

from civsim.experiments.designs import build_design, expected_points, grid_values, salib_problem, value_at
from civsim.experiments.spec import DesignSpec, Factor


def F(name: str, **kw) -> Factor:
    kw.setdefault("type", "float")
    return Factor(name, **kw)


def test_grid_is_the_full_product_first_factor_slowest():
    fs = (F("a", values=(1.0, 2.0)), F("b", values=(10.0, 20.0, 30.0)))
    d = build_design(fs, DesignSpec("grid"), seed=1)
    assert d.points == [
        {"a": 1.0, "b": 10.0},
        {"a": 1.0, "b": 20.0},
        {"a": 1.0, "b": 30.0},
        {"a": 2.0, "b": 10.0},
        {"a": 2.0, "b": 20.0},
        {"a": 2.0, "b": 30.0},
    ]
    assert len(d) == expected_points(DesignSpec("grid"), fs) == 6


def test_grid_range_is_evenly_spaced_and_integer_ranges_round():
    assert grid_values(F("a", low=0.0, high=1.0, num=5)) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert grid_values(F("n", type="int", low=1.0, high=10.0, num=4)) == [1, 4, 7, 10]
    # rounding can collide: duplicates are dropped, order kept
    assert grid_values(F("n", type="int", low=0.0, high=2.0, num=5)) == [0, 1, 2]


def test_grid_without_factors_is_one_point():
    d = build_design((), DesignSpec("grid"), seed=1)
    assert d.points == [{}]


def test_list_zips_the_values():
    fs = (F("a", values=(1.0, 2.0, 3.0)), F("s", type="choice", values=("x", "y", "z")))
    d = build_design(fs, DesignSpec("list"), seed=1)
    assert d.points == [{"a": 1.0, "s": "x"}, {"a": 2.0, "s": "y"}, {"a": 3.0, "s": "z"}]


def test_latin_hypercube_has_one_point_per_stratum():
    fs = (F("a", low=0.0, high=1.0), F("b", low=-2.0, high=2.0))
    n = 20
    d = build_design(fs, DesignSpec("lhs", samples=n), seed=5)
    assert len(d) == n
    for j, f in enumerate(fs):
        u = (d.samples[:, j] - f.low) / (f.high - f.low)
        strata = np.floor(u * n).astype(int)
        assert sorted(strata) == list(range(n)), f"factor {f.name} is not stratified"


@pytest.mark.parametrize("second_order", [False, True])
def test_sobol_makes_saltelli_sample_within_bounds(second_order):
    fs = (F("a", low=0.0, high=1.0), F("b", low=10.0, high=20.0), F("c", values=(True, False), type="bool"))
    spec = DesignSpec("sobol", samples=16, second_order=second_order)
    d = build_design(fs, spec, seed=3)
    D = len(fs)
    assert len(d) == 16 * ((2 * D + 2) if second_order else (D + 2)) == expected_points(spec, fs)
    lo = np.array([b[0] for b in d.problem["bounds"]])
    hi = np.array([b[1] for b in d.problem["bounds"]])
    assert np.all(d.samples >= lo) and np.all(d.samples <= hi)
    # Saltelli blocks: row i*(D+2) is A, the last row of the block is B, A_B^j differs from A only in column j
    step = (2 * D + 2) if second_order else (D + 2)
    block = d.samples[:step]
    for j in range(D):
        diff = np.flatnonzero(block[0] != block[1 + j])
        assert list(diff) == [j]
    assert {p["c"] for p in d.points} == {True, False}


def test_morris_trajectories_move_one_factor_at_a_time():
    fs = (F("a", low=0.0, high=1.0), F("b", low=0.0, high=4.0), F("n", type="int", low=1.0, high=9.0))
    spec = DesignSpec("morris", trajectories=6, levels=4)
    d = build_design(fs, spec, seed=9)
    D = len(fs)
    assert len(d) == 6 * (D + 1) == expected_points(spec, fs)
    for t in range(6):
        traj = d.samples[t * (D + 1) : (t + 1) * (D + 1)]
        moved = [np.flatnonzero(traj[i + 1] != traj[i]) for i in range(D)]
        assert all(len(m) == 1 for m in moved)
        assert sorted(int(m[0]) for m in moved) == list(range(D))
    assert all(isinstance(p["n"], int) and 1 <= p["n"] <= 9 for p in d.points)


def test_sampling_designs_are_reproducible_and_seeded():
    fs = (F("a", low=0.0, high=1.0), F("b", low=0.0, high=1.0))
    for spec in (
        DesignSpec("lhs", samples=8),
        DesignSpec("sobol", samples=8),
        DesignSpec("morris", trajectories=4),
    ):
        a = build_design(fs, spec, seed=11)
        b = build_design(fs, spec, seed=11)
        c = build_design(fs, spec, seed=12)
        assert np.array_equal(a.samples, b.samples)
        assert not np.array_equal(a.samples, c.samples)


def test_categorical_and_integer_mapping():
    cat = F("s", type="choice", values=("x", "y", "z"))
    assert salib_problem((cat,))["bounds"] == [[0.0, 3.0]]
    assert [value_at(cat, x) for x in (0.0, 0.99, 1.0, 2.5, 3.0)] == ["x", "x", "y", "z", "z"]
    n = F("n", type="int", low=2.0, high=5.0)
    assert [value_at(n, x) for x in (2.0, 2.4, 2.6, 5.0)] == [2, 2, 3, 5]
    assert math.isclose(value_at(F("a", low=0.0, high=1.0), 0.3), 0.3)
