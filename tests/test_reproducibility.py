"""Reproducibility: one recorded seed fixes a run, in both engines.

- the same seed gives identical frames (Mesa engine, batch core);
- different seeds give different frames;
- ``civsim.simulate.simulate`` returns identical tables from either engine,
  for a single run and for replicates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from civsim.batch import BatchModel
from civsim.model import CivicModel
from civsim.params import resolve
from civsim.seeding import mesa_aligned_generator, replicate_sequences, run_sequence
from civsim.simulate import simulate

N = 400
STEPS = 24
# Behaviour away from the defaults so that most mechanisms are exercised
# (a shock, austerity, alliances, outreach) within a short run.
BUSY = {
    "n_citizens": N,
    "austerity_rate": -0.05,
    "outreach": 0.4,
    "alliance_propensity": 0.05,
    "shock_month": 10,
    "shock_size": 0.25,
    "random_shock_rate": 0.5,
    "network_grants": 0.03,
}


def mesa_frame(params: dict, seed: int, key: tuple[int, ...] = (), steps: int = STEPS) -> pd.DataFrame:
    return CivicModel(params, seed=seed, key=key).run(steps).frame()


def batch_frame(params: dict, seeds: list[np.random.SeedSequence], steps: int = STEPS) -> pd.DataFrame:
    p = resolve(params)
    return BatchModel([p] * len(seeds), seeds).run(steps).frame()


def assert_identical(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_exact=True)


def differs(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    assert list(a.columns) == list(b.columns)
    x, y = a.drop(columns="step").to_numpy(float), b.drop(columns="step").to_numpy(float)
    return not np.array_equal(x, y, equal_nan=True)


# ----------------------------------------------------------------------------
# Same seed, same frame


@pytest.mark.parametrize("params", [{"n_citizens": N}, BUSY], ids=["defaults", "busy"])
def test_mesa_same_seed_identical(params):
    a = mesa_frame(params, seed=11)
    b = mesa_frame(params, seed=11)
    assert len(a) == STEPS + 1
    assert_identical(a, b)


@pytest.mark.parametrize("params", [{"n_citizens": N}, BUSY], ids=["defaults", "busy"])
def test_batch_same_seed_identical(params):
    seeds = [run_sequence(11, (r,)) for r in range(3)]
    a = batch_frame(params, seeds)
    b = batch_frame(params, [run_sequence(11, (r,)) for r in range(3)])
    assert len(a) == 3 * (STEPS + 1)
    assert_identical(a, b)


def test_mesa_same_seed_and_key_identical():
    assert_identical(mesa_frame(BUSY, seed=5, key=(2,)), mesa_frame(BUSY, seed=5, key=(2,)))


# ----------------------------------------------------------------------------
# Different seeds, different frames


@pytest.mark.parametrize("params", [{"n_citizens": N}, BUSY], ids=["defaults", "busy"])
def test_mesa_different_seeds_differ(params):
    a = mesa_frame(params, seed=1, steps=12)
    b = mesa_frame(params, seed=2, steps=12)
    assert differs(a, b)
    # different worlds already at step 0 (groups, capacities, outcome noise)
    assert a.loc[0, "outcome_index"] != b.loc[0, "outcome_index"]


def test_mesa_different_keys_differ():
    k0 = mesa_frame(BUSY, seed=1, key=(0,), steps=12)
    assert differs(k0, mesa_frame(BUSY, seed=1, key=(1,), steps=12))
    assert differs(k0, mesa_frame(BUSY, seed=1, steps=12))


@pytest.mark.parametrize("params", [{"n_citizens": N}, BUSY], ids=["defaults", "busy"])
def test_batch_different_seeds_differ(params):
    f = batch_frame(params, [run_sequence(1), run_sequence(2), run_sequence(1, (0,))])
    runs = [g.drop(columns="run") for _, g in f.groupby("run")]
    assert differs(runs[0], runs[1])
    assert differs(runs[0], runs[2])
    assert differs(runs[1], runs[2])


# ----------------------------------------------------------------------------
# Seeding contract


def test_spawn_key_equals_spawned_child():
    """``SeedSequence(seed, spawn_key=(i,))`` is the i-th child of ``SeedSequence(seed)``."""
    children = np.random.SeedSequence(42).spawn(4)
    for i, child in enumerate(children):
        mine = run_sequence(42, (i,))
        assert np.array_equal(mine.generate_state(8), child.generate_state(8))
    assert [s.spawn_key for s in replicate_sequences(42, 3)] == [(0,), (1,), (2,)]
    assert replicate_sequences(42, 1)[0].spawn_key == ()


def test_mesa_aligned_generator_matches_mesa_rng():
    """The batch core's generator starts where a Mesa model's ``rng`` is after ``Model.__init__``."""
    import mesa

    seq = run_sequence(9, (3,))
    model = mesa.Model(rng=np.random.default_rng(run_sequence(9, (3,))))
    ours = mesa_aligned_generator(seq)
    assert np.array_equal(model.rng.random(16), ours.random(16))


# ----------------------------------------------------------------------------
# simulate(): either engine, same numbers


@pytest.mark.parametrize("reps", [1, 3])
def test_simulate_mesa_equals_batch(reps):
    ts_m, sum_m = simulate(BUSY, seed=7, steps=STEPS, reps=reps, engine="mesa")
    ts_b, sum_b = simulate(BUSY, seed=7, steps=STEPS, reps=reps, engine="batch")
    assert list(ts_m.columns) == list(ts_b.columns)
    assert ts_m.columns[0] == "rep" and ts_m.columns[1] == "step"
    assert len(ts_m) == reps * (STEPS + 1)
    assert sorted(ts_m["rep"].unique()) == list(range(reps))
    pd.testing.assert_frame_equal(ts_m, ts_b, check_exact=True, check_dtype=False)
    pd.testing.assert_frame_equal(sum_m, sum_b, check_exact=True, check_dtype=False)
    if reps > 1:
        # replicates are not copies of each other
        first = ts_b[ts_b.rep == 0].drop(columns="rep")
        for r in range(1, reps):
            assert differs(first, ts_b[ts_b.rep == r].drop(columns="rep"))


def test_simulate_uses_documented_streams():
    """reps=1 is ``SeedSequence(seed)``; replicate r is ``SeedSequence(seed, spawn_key=(r,))``."""
    ts1, _ = simulate(BUSY, seed=3, steps=12, reps=1, engine="batch")
    assert_identical(ts1.drop(columns="rep"), mesa_frame(BUSY, seed=3, steps=12))
    ts3, _ = simulate(BUSY, seed=3, steps=12, reps=3, engine="batch")
    for r in (0, 2):
        got = ts3[ts3.rep == r].drop(columns="rep")
        assert_identical(got, mesa_frame(BUSY, seed=3, key=(r,), steps=12))


def test_simulate_is_repeatable():
    a, sa = simulate(BUSY, seed=21, steps=12, reps=2)
    b, sb = simulate(BUSY, seed=21, steps=12, reps=2)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    pd.testing.assert_frame_equal(sa, sb, check_exact=True)


def test_a_copied_batch_model_continues_exactly_as_the_original():
    """Rooms measure a seat's effect on a deep copy of the running model (the counterfactual
    year); the copy must draw its own random numbers, exactly as the original would."""
    import copy

    from civsim.batch import BatchModel
    from civsim.params import resolve
    from civsim.seeding import replicate_sequences

    p = resolve({"n_citizens": 300, "burn_in": 24})
    original = BatchModel([p, p], replicate_sequences(5, 2))
    original.run(3)
    twin = copy.deepcopy(original)
    a, b = original.run(12).frame(), twin.run(12).frame()
    pd.testing.assert_frame_equal(a, b)
