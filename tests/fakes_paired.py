"""A fake engine for the paired-experiment tooling: known effects, seed-driven noise.

Each run's values follow in closed form from its parameters plus noise drawn
from its own seed only, so two arms with the same seed share their noise and
their paired difference is exactly the designed effect:

- ``outcome_index`` (every step) = 0.5 + 0.1 * outreach * [networks_enabled]
  + 0.02 * mutual_aid + e, with e ~ N(0, 0.01) per run;
- ``inclusion_gap`` = 0.1 - 0.05 * needs_targeting + e2, e2 ~ N(0, 0.004);
- ``engagement_majority`` = 0.3 + 0.2 * outreach, ``engagement_marginalised``
  = 0.2 + 0.3 * outreach (so majority - marginalised falls by 0.1 per unit);
- ``trust`` = 0.5 + 0.1 * coproduction_openness + u * (coproduction_openness - 0.3),
  u ~ N(0, 0.05): an effect whose size varies from seed to seed.

It is not a model of anything.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def fake_engine(points, seeds, steps):
    """``(points, seeds, steps) -> frame`` with columns run, step and the fake outputs."""
    frames = []
    t = np.arange(steps + 1)
    for b, (p, ss) in enumerate(zip(points, seeds, strict=True)):
        rng = np.random.default_rng(ss)
        e, e2, u = rng.normal(0.0, 0.01), rng.normal(0.0, 0.004), rng.normal(0.0, 0.05)
        level = 0.5 + 0.1 * p["outreach"] * float(p["networks_enabled"]) + 0.02 * p["mutual_aid"] + e
        frames.append(
            pd.DataFrame(
                {
                    "run": b,
                    "step": t,
                    "outcome_index": np.full(t.size, level),
                    "inclusion_gap": np.full(t.size, 0.1 - 0.05 * p["needs_targeting"] + e2),
                    "engagement_majority": np.full(t.size, 0.3 + 0.2 * p["outreach"]),
                    "engagement_marginalised": np.full(t.size, 0.2 + 0.3 * p["outreach"]),
                    "trust": np.full(
                        t.size,
                        0.5 + 0.1 * p["coproduction_openness"] + u * (p["coproduction_openness"] - 0.3),
                    ),
                    "shock": np.zeros(t.size),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


class SeedLog:
    """A fake engine that records every seed's spawn key it is given (then runs :func:`fake_engine`)."""

    def __init__(self) -> None:
        self.keys: list[tuple[int, tuple[int, ...]]] = []
        self.__name__ = "seedlog"

    def __call__(self, points, seeds, steps):
        self.keys += [(s.entropy, tuple(s.spawn_key)) for s in seeds]
        return fake_engine(points, seeds, steps)
