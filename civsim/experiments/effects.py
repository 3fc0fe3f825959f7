"""Paired effects over independent seed blocks: the statistics of patterns and levers.

Two arms (a reference and a treatment) are run with the same seeds (common
random numbers). The runs are grouped into ``n`` independent seed blocks of
``R`` replicates each; replicate ``r`` of block ``b`` uses the stream
``SeedSequence(seed, spawn_key=(b, r))`` in both arms.

For each block the effect is the mean paired difference

.. math:: d_b = \\frac{1}{R} \\sum_r \\left(y^T_{br} - y^R_{br}\\right),

the pooled effect is :math:`\\bar d = \\frac{1}{n}\\sum_b d_b`, and its
interval is Student's t over blocks,
:math:`\\bar d \\pm t_{1-\\alpha/2,\\,n-1}\\, s_d / \\sqrt{n}` (90% by default).
The blocks are independent by construction, so the t interval is honest even
when replicates within a block share structure; the sign is *consistent*
when every :math:`d_b` has the expected sign.

References
----------
Law, A. M. (2015). *Simulation Modeling and Analysis*, 5th ed., ch. 11
(common random numbers; batch means / independent replications).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

LEVEL = 0.90
"""Default confidence level of intervals."""

EXPECT: dict[str, int] = {"increase": 1, "decrease": -1}
"""Allowed expected directions and their signs."""


def t_interval(x: np.ndarray, level: float = LEVEL) -> tuple[float, float, float]:
    """Mean and two-sided Student-t interval of the mean of ``x`` (NaNs dropped).

    Parameters
    ----------
    x : array_like
        Independent observations (here: block effects).
    level : float
        Confidence level in (0, 1).

    Returns
    -------
    mean, low, high : float
        NaN when no value is finite; with one value the interval is that value
        to infinity on both sides (no spread can be estimated).
    """
    v = np.asarray(x, dtype=float).ravel()
    v = v[np.isfinite(v)]
    if v.size == 0:
        return (math.nan, math.nan, math.nan)
    m = float(v.mean())
    if v.size == 1:
        return (m, -math.inf, math.inf)
    half = float(stats.t.ppf(0.5 + level / 2.0, v.size - 1) * v.std(ddof=1) / math.sqrt(v.size))
    return (m, m - half, m + half)


@dataclass(frozen=True)
class BlockEffect:
    """A paired effect over seed blocks.

    Attributes
    ----------
    effect : float
        Pooled effect, the mean of the block effects (treatment - reference).
    low, high : float
        Interval of the pooled effect (t over blocks) at ``level``.
    blocks : tuple of float
        Effect per block.
    reference, treatment : float
        Mean of each arm over all runs.
    expect : int
        Expected sign: +1, -1, or 0 (none).
    level : float
        Confidence level of ``low``/``high``.
    replicate_sd : float
        Pooled within-block sd of the reference arm's runs (the replicate
        noise of one run).
    n_runs : int
        Finite paired differences used.
    """

    effect: float
    low: float
    high: float
    blocks: tuple[float, ...]
    reference: float
    treatment: float
    expect: int = 0
    level: float = LEVEL
    replicate_sd: float = math.nan
    n_runs: int = 0

    @property
    def consistent(self) -> bool:
        """True when every block effect has the expected sign (any one sign if none is expected)."""
        b = np.asarray(self.blocks, dtype=float)
        if b.size == 0 or not np.all(np.isfinite(b)):
            return False
        if self.expect:
            return bool(np.all(np.sign(b) == self.expect))
        return bool(np.all(b > 0) or np.all(b < 0))

    @property
    def excludes_zero(self) -> bool:
        """True when the interval lies wholly on one side of zero."""
        return bool(self.low > 0 or self.high < 0)

    def verdict(self, margin: float = 0.0) -> str:
        """One word on the effect: ``holds``, ``weak``, ``none``, ``zero`` or ``reversed``.

        ``holds``: the sign is consistent over blocks, the interval excludes
        zero on the expected side and the effect is at least ``margin`` in
        size. ``reversed``: the interval lies wholly on the other side.
        ``weak``: the expected sign on average (or a consistent sign) but not
        all of the above. ``zero``: exactly 0 in every block (the arms give
        identical values: the contrast has no pathway to this measure).
        ``none``: otherwise (including NaN).
        """
        if not math.isfinite(self.effect):
            return "none"
        if all(v == 0.0 for v in self.blocks):
            return "zero"
        s = self.expect or (1 if self.effect > 0 else -1)
        lo, hi = (self.low, self.high) if s > 0 else (-self.high, -self.low)
        if self.consistent and lo > 0 and abs(self.effect) >= margin:
            return "holds"
        if hi < 0:
            return "reversed"
        if s * self.effect > 0 and (self.consistent or lo > 0):
            return "weak"
        return "none"

    def share_of(self, full: BlockEffect) -> float:
        """This effect as a share of ``full`` (e.g. an ablated pattern over the intact one)."""
        if not (math.isfinite(full.effect) and full.effect != 0):
            return math.nan
        return self.effect / full.effect

    def as_dict(self) -> dict[str, Any]:
        """Plain record for tables (block effects as ``block_<b>``)."""
        out: dict[str, Any] = {
            "reference": self.reference,
            "treatment": self.treatment,
            "effect": self.effect,
            "ci_low": self.low,
            "ci_high": self.high,
            "level": self.level,
            "consistent_sign": self.consistent,
            "replicate_sd": self.replicate_sd,
            "n_blocks": len(self.blocks),
            "n_runs": self.n_runs,
        }
        for b, v in enumerate(self.blocks):
            out[f"block_{b}"] = v
        return out

    def __str__(self) -> str:
        blocks = ", ".join(f"{v:+.4f}" for v in self.blocks)
        return (
            f"{self.reference:.4f} -> {self.treatment:.4f}: effect {self.effect:+.4f} "
            f"[{self.low:+.4f}, {self.high:+.4f}] ({self.level:.0%}), blocks [{blocks}]"
        )


def paired_block_effect(
    reference: np.ndarray, treatment: np.ndarray, expect: int = 0, level: float = LEVEL
) -> BlockEffect:
    """Effect of treatment over reference from paired runs arranged by block.

    Parameters
    ----------
    reference, treatment : array_like, shape (n_blocks, R)
        Per-run values; entry ``[b, r]`` of both arms used the same seed.
        NaN marks a run without a value; its pair is dropped.
    expect : {1, -1, 0}
        Expected sign of the effect (0: none).
    level : float
        Confidence level of the interval.

    Returns
    -------
    BlockEffect
    """
    ref = np.atleast_2d(np.asarray(reference, dtype=float))
    trt = np.atleast_2d(np.asarray(treatment, dtype=float))
    if ref.shape != trt.shape:
        raise ValueError(
            f"arms must have the same shape (blocks, replicates); got {ref.shape} and {trt.shape}"
        )
    if expect not in (-1, 0, 1):
        raise ValueError(f"expect must be -1, 0 or 1; got {expect!r}")
    d = trt - ref
    ok = np.isfinite(d)
    with np.errstate(invalid="ignore"):
        counts = ok.sum(axis=1)
        blocks = np.where(counts > 0, np.where(ok, d, 0.0).sum(axis=1) / np.maximum(counts, 1), np.nan)
    mean, low, high = t_interval(blocks, level)
    return BlockEffect(
        effect=mean,
        low=low,
        high=high,
        blocks=tuple(float(v) for v in blocks),
        reference=_nanmean(ref[ok]),
        treatment=_nanmean(trt[ok]),
        expect=int(expect),
        level=level,
        replicate_sd=within_block_sd(np.where(ok, ref, np.nan)),
        n_runs=int(ok.sum()),
    )


def within_block_sd(x: np.ndarray) -> float:
    """Pooled within-block standard deviation of runs arranged (n_blocks, R); NaNs dropped.

    The replicate noise of a single run: blocks differ only in their seeds, so
    pooling them removes nothing but gives more degrees of freedom.
    """
    v = np.atleast_2d(np.asarray(x, dtype=float))
    ss, df = 0.0, 0
    for row in v:
        row = row[np.isfinite(row)]
        if row.size > 1:
            ss += float(((row - row.mean()) ** 2).sum())
            df += row.size - 1
    return math.sqrt(ss / df) if df else math.nan


def _nanmean(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else math.nan
