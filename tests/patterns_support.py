"""Pattern tests over independent seed blocks: run arms, assert a consistent sign plus a margin.

An arm is ``blocks x reps`` runs of one parameter point on the batch core;
replicate r of block b uses ``SeedSequence(seed, spawn_key=(b, r))``
(:func:`civsim.experiments.paired.block_sequences`), the same in every arm, so
arms are paired by common random numbers and blocks are independent.

:func:`assert_effect` is the test's form of the ablation table's verdict
``holds`` (:mod:`civsim.experiments.effects`): every block's effect has the
expected sign, the 90% t interval over blocks excludes zero on that side, and
the pooled effect is at least ``margin``. A pattern that shows only at the
seed a test happens to use fails here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from civsim.batch import BatchModel
from civsim.experiments.effects import BlockEffect, paired_block_effect
from civsim.experiments.measures import Measure, evaluate
from civsim.experiments.paired import block_sequences
from civsim.params import resolve
from civsim.scenario import load_scenario

BLOCKS = 5
REPS = 3
N = 2000
STEPS = 120
SEED = 0


@dataclass
class Arm:
    """``blocks x reps`` paired runs of one parameter point: the batch model after the run and its frame."""

    model: BatchModel
    frame: pd.DataFrame
    blocks: int
    reps: int

    def by_block(self, per_run: np.ndarray) -> np.ndarray:
        """Per-run values (run order) arranged (blocks, reps)."""
        return np.asarray(per_run, dtype=float).reshape(self.blocks, self.reps)

    def final(self, column: str) -> np.ndarray:
        """Final value of ``column``, (blocks, reps)."""
        f = self.frame
        return self.by_block(f[f.step == f.step.max()].sort_values("run")[column].to_numpy(float))

    def mean(self, column: str) -> np.ndarray:
        """Mean of ``column`` over the run, (blocks, reps)."""
        return self.by_block(self.frame.groupby("run")[column].mean().sort_index().to_numpy(float))

    def at(self, column: str, step: int) -> np.ndarray:
        """``column`` at ``step``, (blocks, reps)."""
        f = self.frame
        return self.by_block(f[f.step == step].sort_values("run")[column].to_numpy(float))

    def measure(self, m: Measure) -> np.ndarray:
        """A :class:`~civsim.experiments.measures.Measure` of every run, (blocks, reps)."""
        out = [
            evaluate(m, g.sort_values("step").reset_index(drop=True), self.model, int(b))[0]
            for b, g in self.frame.groupby("run", sort=True)
        ]
        return self.by_block(np.array(out))


def arm_params(overrides: dict | None = None, preset: str | None = None, n: int = N) -> dict:
    """Resolved parameters: a preset's overrides, then ``n_citizens``, then ``overrides``."""
    base = dict(load_scenario(preset).params) if preset else {}
    return resolve({**base, "n_citizens": n, **(overrides or {})})


def run_arm(
    overrides: dict | None = None,
    preset: str | None = None,
    *,
    blocks: int = BLOCKS,
    reps: int = REPS,
    steps: int = STEPS,
    seed: int = SEED,
    n: int = N,
) -> Arm:
    """Run one arm (preset, then overrides) over ``blocks x reps`` paired seeds on the batch core."""
    params = arm_params(overrides, preset, n)
    model = BatchModel([params] * (blocks * reps), block_sequences(seed, blocks, reps)).run(steps)
    return Arm(model, model.frame(), blocks, reps)


def run_points(
    points: list[dict], *, blocks: int = BLOCKS, reps: int = REPS, steps: int = STEPS, seed: int = SEED
) -> BatchModel:
    """Several resolved points in one batch, each over the same ``blocks x reps`` seeds (point-major)."""
    seqs = block_sequences(seed, blocks, reps)
    return BatchModel([p for p in points for _ in seqs], [s for _ in points for s in seqs]).run(steps)


_EXPECT = {"increase": 1, "decrease": -1}


def assert_effect(
    reference: np.ndarray, treatment: np.ndarray, expect: str, margin: float, what: str
) -> BlockEffect:
    """Assert treatment - reference has the expected sign in every block, an interval off zero and a margin.

    Parameters
    ----------
    reference, treatment : ndarray, shape (blocks, reps)
        Paired per-run values (same seeds at the same position).
    expect : {"increase", "decrease"}
    margin : float
        Smallest pooled effect size that counts.
    what : str
        Named in the failure message, with every block's effect.
    """
    sign = _EXPECT[expect]
    e = paired_block_effect(reference, treatment, sign)
    assert len(e.blocks) >= 5, f"{what}: a pattern test needs at least 5 seed blocks, not {len(e.blocks)}"
    assert e.verdict(margin) == "holds", (
        f"{what}: expected a consistent {expect} over {len(e.blocks)} seed blocks, "
        f"interval off zero and |effect| >= {margin}; got {e}"
    )
    return e


def assert_at_most(reference: np.ndarray, treatment: np.ndarray, bound: float, what: str) -> BlockEffect:
    """Assert the effect is at most ``bound`` in every block (e.g. "gains nothing")."""
    e = paired_block_effect(reference, treatment)
    assert max(e.blocks) <= bound, f"{what}: expected at most {bound:+} in every seed block; got {e}"
    return e


def assert_each_block(check: Callable[[int], tuple[bool, str]], blocks: int = BLOCKS) -> None:
    """Assert ``check(b)`` holds in every seed block; ``check`` returns (ok, description)."""
    failed = []
    for b in range(blocks):
        ok, msg = check(b)
        if not ok:
            failed.append(f"block {b}: {msg}")
    assert not failed, f"{len(failed)} of {blocks} seed blocks fail: " + "; ".join(failed)
