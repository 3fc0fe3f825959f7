"""Effect, interval and sign arithmetic over seed blocks, and per-run measures, on known inputs."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from civsim.experiments.effects import paired_block_effect, t_interval, within_block_sd
from civsim.experiments.measures import Measure, agenda_pull, column, evaluate
from civsim.experiments.paired import block_sequences, chunk_size, variant_key

# t_{0.95, 4} = 2.131846786 (tables); sd of 1..5 = sqrt(2.5)
T95_4 = 2.131846786


def test_t_interval_matches_the_table():
    mean, lo, hi = t_interval([1.0, 2.0, 3.0, 4.0, 5.0], 0.90)
    half = T95_4 * math.sqrt(2.5) / math.sqrt(5)
    assert mean == 3.0
    assert lo == pytest.approx(3.0 - half, abs=1e-9) and hi == pytest.approx(3.0 + half, abs=1e-9)


def test_t_interval_edge_cases():
    assert all(math.isnan(v) for v in t_interval([]))
    assert all(math.isnan(v) for v in t_interval([np.nan, np.nan]))
    m, lo, hi = t_interval([0.2, np.nan])
    assert m == 0.2 and lo == -math.inf and hi == math.inf
    m, lo, hi = t_interval([0.5, 0.5, 0.5])
    assert (m, lo, hi) == (0.5, 0.5, 0.5)


def test_block_effects_are_mean_paired_differences():
    ref = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0], [9.0, 10.0]])
    d = np.array([[0.1, 0.3], [0.2, 0.2], [0.0, 0.2], [0.4, 0.2], [0.3, 0.1]])
    e = paired_block_effect(ref, ref + d, expect=1)
    assert e.blocks == pytest.approx((0.2, 0.2, 0.1, 0.3, 0.2))
    mean, lo, hi = t_interval([0.2, 0.2, 0.1, 0.3, 0.2])
    assert (e.effect, e.low, e.high) == pytest.approx((mean, lo, hi))
    assert e.reference == pytest.approx(5.5) and e.treatment == pytest.approx(5.5 + 0.2)
    assert e.consistent and e.excludes_zero and e.n_runs == 10
    assert e.verdict() == "holds" and e.verdict(margin=0.5) == "weak"
    # the same numbers expected to fall: wholly on the wrong side
    down = paired_block_effect(ref, ref + d, expect=-1)
    assert not down.consistent and down.verdict() == "reversed"


def test_one_block_of_the_wrong_sign_breaks_consistency():
    ref = np.zeros((5, 2))
    trt = np.array([[0.3, 0.3], [0.2, 0.2], [0.3, 0.3], [0.4, 0.4], [-0.01, -0.01]])
    e = paired_block_effect(ref, trt, expect=1)
    assert e.effect > 0 and not e.consistent
    assert e.verdict() == "weak"  # positive on average, but not in every block


def test_no_expectation_accepts_either_consistent_sign():
    ref = np.zeros((5, 1))
    assert paired_block_effect(ref, ref - 1.0).consistent
    assert not paired_block_effect(ref, np.array([[1.0], [-1.0], [1.0], [1.0], [1.0]])).consistent


def test_identical_arms_give_zero():
    x = np.random.default_rng(1).normal(size=(5, 3))
    e = paired_block_effect(x, x.copy(), expect=1)
    assert e.effect == 0 and not e.consistent and e.verdict() == "zero"


def test_nan_runs_drop_their_pair():
    ref = np.array([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    trt = np.array([[1.0, np.nan], [2.0, 2.0], [np.nan, np.nan]])
    e = paired_block_effect(ref, trt)
    assert e.blocks[0] == 1.0 and e.blocks[1] == 2.0 and math.isnan(e.blocks[2])
    assert e.effect == 1.5 and e.n_runs == 3 and not e.consistent
    with pytest.raises(ValueError):
        paired_block_effect(np.zeros((5, 2)), np.zeros((5, 3)))


def test_within_block_sd_pools_blocks():
    x = np.array([[1.0, 3.0], [10.0, 14.0]])  # block sds: sqrt(2), sqrt(8); pooled sqrt((2 + 8) / 2)
    assert within_block_sd(x) == pytest.approx(math.sqrt(5.0))
    assert math.isnan(within_block_sd(np.ones((5, 1))))


def test_share_of_the_intact_effect():
    ref = np.zeros((5, 1))
    full = paired_block_effect(ref, ref + 0.2)
    assert paired_block_effect(ref, ref + 0.05).share_of(full) == pytest.approx(0.25)
    assert math.isnan(full.share_of(paired_block_effect(ref, ref)))


def test_seed_blocks_use_explicit_spawn_keys():
    seqs = block_sequences(7, blocks=5, reps=3)
    assert [tuple(s.spawn_key) for s in seqs[:4]] == [(0, 0), (0, 1), (0, 2), (1, 0)]
    assert all(s.entropy == 7 for s in seqs)
    a = np.random.default_rng(seqs[4]).random()
    b = np.random.default_rng(np.random.SeedSequence(7, spawn_key=(1, 1))).random()
    assert a == b


def test_variant_key_and_chunks():
    assert variant_key({"a": 1, "b": (1, 2)}) == variant_key({"b": (1, 2), "a": 1})
    assert variant_key({"a": 1}) != variant_key({"a": 2})
    assert chunk_size(2000, 20) == 20 and chunk_size(2_000_000, 20) == 1 and chunk_size(10, 500) == 64


# ----------------------------------------------------------------------------
# Measures


def frame(index, **cols):
    n = len(index)
    return pd.DataFrame({"step": np.arange(n), "outcome_index": np.asarray(index, float), **cols})


def test_column_statistics():
    f = frame([0.5, 0.6, 0.4, 0.7], a=[1.0, 2.0, 3.0, 4.0], b=[0.5, 0.5, 1.0, 1.0])
    assert evaluate(column("a"), f) == (4.0, False)
    assert evaluate(column("a", "mean"), f)[0] == 2.5
    assert evaluate(column("a", "change"), f)[0] == 3.0
    assert evaluate(column("a", "min", minus="b"), f)[0] == 0.5
    assert evaluate(column("a", "at", step=2), f)[0] == 3.0
    assert evaluate(column("a", "mean", window=(1, 2)), f)[0] == 2.5
    assert evaluate(Measure("column", columns=("a", "b"), minus=("outcome_index",), stat="max"), f)[0] == (
        pytest.approx(4.3)
    )


def test_resilience_summaries():
    # shock flagged at step 2; trough 0.4 at step 3; 90% of the 0.2 dip back (>= 0.58) at step 5
    idx = [0.6, 0.6, 0.5, 0.4, 0.5, 0.59, 0.6]
    shock = [0, 0, 1, 0, 0, 0, 0]
    f = frame(idx, shock=shock)
    assert evaluate(Measure("summary", summary="shock_dip"), f)[0] == pytest.approx(0.2)
    assert evaluate(Measure("summary", summary="shock_recovery_months"), f) == (3.0, False)
    assert evaluate(Measure("summary", summary="shock_regained", months=2), f)[0] == pytest.approx(0.95)
    # never recovers: censored at the months observed after the shock
    f2 = frame([0.6, 0.6, 0.5, 0.4, 0.41, 0.42, 0.43], shock=shock)
    assert evaluate(Measure("summary", summary="shock_recovery_months"), f2) == (5.0, True)
    # no shock: no value
    assert math.isnan(evaluate(Measure("summary", summary="shock_dip"), frame(idx, shock=[0] * 7))[0])


def test_probes_read_the_final_state():
    K = 4
    model = SimpleNamespace(
        B=2,
        domains=("a", "b", "c", "d"),
        council={"weights": np.array([[0.4, 0.2, 0.2, 0.2], [0.25, 0.25, 0.25, 0.25]])},
        net_members=np.array([[3, 1, 0], [0, 0, 0]]),
        alive=np.array([[True, True, True], [True, False, False]]),
        net_focus=np.array([[0, 1, 2], [3, 3, 3]]),
    )
    pull = agenda_pull(model)
    # run 0: focus distribution (3/4 on a, 1/4 on b): K * (0.75 * 0.4 + 0.25 * 0.2) = 1.4
    assert pull[0] == pytest.approx(K * 0.35) and math.isnan(pull[1])
    w = Measure("probe", probe="council_weight", domains=("a", "c"))
    assert evaluate(w, frame([0.5]), model, 0)[0] == pytest.approx(0.6)
    with pytest.raises(ValueError):
        evaluate(w, frame([0.5]))
