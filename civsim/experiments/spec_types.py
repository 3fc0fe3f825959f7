"""What a validated experiment file is: :class:`Experiment` and its parts.

:class:`Factor`, :class:`DesignSpec` and :class:`OutputSpec` are the checked
``[factors]``, ``[design]`` and ``[output]`` tables; the allowed kinds, metrics and
caps are here too, with :func:`count_points` (how many points a design makes).
The file is read and checked by :mod:`civsim.experiments.spec`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DESIGN_KINDS: tuple[str, ...] = ("grid", "list", "lhs", "sobol", "morris")
"""Allowed values of ``[design] kind``."""


KEEP_KINDS: tuple[str, ...] = ("summary", "series")
"""Allowed values of ``[output] keep``: one row per run, or per run and step."""


SERIES_METRICS: tuple[str, ...] = (
    "outcome_index",
    "outcome_index_council",
    "inclusion_gap",
    "engagement",
    "trust",
    "budget",
    "networks",
    "alliances",
    "coordination_density",
    "gain_per_spend",
)
"""Metrics the engines record each step (columns of ``BatchModel.frame()``)."""


DEFAULT_METRICS: tuple[str, ...] = (
    "outcome_index",
    "inclusion_gap",
    "engagement",
    "trust",
    "budget",
    "coordination_density",
    "alliances",
)
"""Metrics recorded when ``[output] metrics`` is not given."""

MAX_STEPS = 100_000
MAX_RUNS = 10_000_000


@dataclass(frozen=True)
class Factor:
    """One parameter varied by an experiment.

    Attributes
    ----------
    name : str
        Parameter name (a key of :data:`civsim.params.SCHEMA`).
    type : str
        The parameter's type (``"float"``, ``"int"``, ``"bool"``, ``"choice"``).
    values : tuple or None
        Explicit values (already validated), or None for a range.
    low, high : float or None
        Bounds of a range factor (both validated against the schema).
    num : int or None
        Number of evenly spaced grid values across a range (grid design only).
    """

    name: str
    type: str
    values: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    num: int | None = None

    @property
    def is_range(self) -> bool:
        """True for a continuous ``range = [low, high]`` factor."""
        return self.values is None

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready description (used in the manifest and the hash)."""
        if self.is_range:
            out: dict[str, Any] = {"name": self.name, "type": self.type, "range": [self.low, self.high]}
            if self.num is not None:
                out["num"] = self.num
            return out
        return {"name": self.name, "type": self.type, "values": list(self.values or ())}


@dataclass(frozen=True)
class DesignSpec:
    """The ``[design]`` table.

    Attributes
    ----------
    kind : str
        One of :data:`DESIGN_KINDS`.
    samples : int or None
        Latin hypercube points, or the Sobol base sample size N (a power of
        2; Saltelli's scheme makes N (D + 2) points, N (2D + 2) with second
        order).
    second_order : bool
        Sobol only: also sample for second-order indices.
    trajectories : int or None
        Morris only: number of trajectories (r); makes r (D + 1) points.
    levels : int
        Morris only: number of grid levels (p, even).
    """

    kind: str
    samples: int | None = None
    second_order: bool = False
    trajectories: int | None = None
    levels: int = 4

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready description of the settings that apply to ``kind``."""
        out: dict[str, Any] = {"kind": self.kind}
        if self.kind in ("lhs", "sobol"):
            out["samples"] = self.samples
        if self.kind == "sobol":
            out["second_order"] = self.second_order
        if self.kind == "morris":
            out["trajectories"] = self.trajectories
            out["levels"] = self.levels
        return out


@dataclass(frozen=True)
class OutputSpec:
    """The ``[output]`` table.

    Attributes
    ----------
    keep : str
        ``"summary"`` (one row per run) or ``"series"`` (one row per run per
        recorded step).
    metrics : tuple of str
        Metrics to keep (names from :data:`SERIES_METRICS`); in summary mode
        every per-run summary derived from them is kept.
    every : int
        Series only: record every ``every``-th step (the last step always).
    """

    keep: str = "summary"
    metrics: tuple[str, ...] = DEFAULT_METRICS
    every: int = 1

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready description."""
        return {"keep": self.keep, "metrics": list(self.metrics), "every": self.every}


@dataclass(frozen=True)
class Experiment:
    """A validated experiment file.

    Attributes
    ----------
    name, description : str
        Title and one-paragraph purpose.
    path : pathlib.Path
        The file it came from.
    text : str
        The file's text, as read (recorded in the manifest).
    scenario : str or None
        Base scenario preset or path, or None for the defaults.
    base : dict
        Parameter overrides of the base (scenario, then ``[params]``); every
        point starts from these.
    factors : tuple of Factor
        The parameters varied.
    design : DesignSpec
        How points are chosen.
    replicates, steps, seed : int
        Runs per point, months per run and the experiment seed.
    chunk_size : int or None
        Runs batched together per chunk (None: chosen from the model size).
    output : OutputSpec
        What is recorded.
    """

    name: str
    description: str
    path: Path
    text: str
    scenario: str | None
    base: dict[str, Any]
    factors: tuple[Factor, ...]
    design: DesignSpec
    replicates: int
    steps: int
    seed: int
    chunk_size: int | None
    output: OutputSpec = field(default_factory=OutputSpec)

    @property
    def factor_names(self) -> tuple[str, ...]:
        """Names of the factors, in file order."""
        return tuple(f.name for f in self.factors)


def count_points(design: DesignSpec, factors: tuple[Factor, ...]) -> int:
    """How many points a design makes, computed without making them.

    Grid: the product of each factor's number of distinct values; Sobol:
    N (D + 2), or N (2D + 2) with second order; Morris: r (D + 1); LHS: its
    samples; list: the length of the value lists.
    """
    d = len(factors)
    if design.kind == "grid":
        return math.prod(_n_levels(f) for f in factors)
    if design.kind == "list":
        return len(factors[0].values or ()) if factors else 1
    if design.kind == "lhs":
        return int(design.samples or 0)
    if design.kind == "sobol":
        return int(design.samples or 0) * (2 * d + 2 if design.second_order else d + 2)
    return int(design.trajectories or 0) * (d + 1)


def _n_levels(f: Factor) -> int:
    if not f.is_range:
        return len(f.values or ())
    if f.type == "int":  # evenly spaced values rounded, duplicates dropped (as designs.grid_values)
        import numpy as np

        xs = np.linspace(float(f.low), float(f.high), int(f.num or 0))  # type: ignore[arg-type]
        return len(np.unique(np.round(xs)))
    return int(f.num or 0)
