"""Designs: which parameter points an experiment runs.

Five designs over the factors of an experiment:

- ``grid``: the full factorial product of every factor's values (the first
  factor varies slowest);
- ``list``: the i-th values of all factors, zipped;
- ``lhs``: a Latin hypercube sample over the factors' ranges (McKay et al.
  1979), via SALib;
- ``sobol``: Saltelli's cross-sampling scheme on a scrambled Sobol sequence,
  N (D + 2) points, N (2D + 2) with second-order indices (Saltelli 2002;
  Saltelli et al. 2010), via SALib;
- ``morris``: r one-at-a-time trajectories of D + 1 points on a p-level grid
  (Morris 1991; Campolongo et al. 2007), via SALib.

In the sampling designs a factor with ``values`` is categorical: it is
sampled on [0, n) and the value is the one at the floor of the sample. An
integer range is rounded to the nearest integer.

References
----------
McKay, Beckman and Conover (1979), Technometrics 21(2), 239-245.
Morris (1991), Technometrics 33(2), 161-174.
Saltelli (2002), Computer Physics Communications 145(2), 280-297.
Saltelli et al. (2010), Computer Physics Communications 181(2), 259-270.
Herman and Usher (2017), SALib, JOSS 2(9), 97.
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from civsim.experiments.spec import DesignSpec, Factor

DESIGN_STREAM = 0x5A17
"""Spawn key of the random stream a design samples from:
``SeedSequence(seed, spawn_key=(DESIGN_STREAM,))``. Runs use two-element keys
``(point, replicate)``, so the streams never coincide."""


@dataclass(frozen=True)
class Design:
    """The resolved points of an experiment.

    Attributes
    ----------
    kind : str
        The design kind.
    factors : tuple of Factor
        The factors, in file order.
    points : list of dict
        Factor values of each point, in point order (point index = position).
    samples : numpy.ndarray or None
        Sampling designs: the (n_points, D) sample in SALib problem units
        (before rounding integers or mapping categorical factors).
    problem : dict or None
        Sampling designs: the SALib problem (``num_vars``, ``names``,
        ``bounds``).
    """

    kind: str
    factors: tuple[Factor, ...]
    points: list[dict[str, Any]]
    samples: np.ndarray | None = None
    problem: dict[str, Any] | None = None

    def __len__(self) -> int:
        return len(self.points)


def grid_values(factor: Factor) -> list[Any]:
    """The values a factor takes in a grid or list design.

    A ``range`` with ``num`` gives ``num`` evenly spaced values from low to
    high (integers rounded, duplicates dropped).
    """
    if not factor.is_range:
        return list(factor.values or ())
    assert factor.low is not None and factor.high is not None and factor.num is not None
    xs = np.linspace(factor.low, factor.high, factor.num)
    if factor.type == "int":
        return list(dict.fromkeys(int(round(x)) for x in xs))
    return [float(np.round(x, 12)) for x in xs]


def salib_problem(factors: tuple[Factor, ...] | list[Factor]) -> dict[str, Any]:
    """The SALib problem dict for these factors.

    A range factor's bounds are its range; a categorical factor (``values``)
    is sampled on ``[0, n_values]``.
    """
    bounds = []
    for f in factors:
        if f.is_range:
            bounds.append([float(f.low), float(f.high)])  # type: ignore[arg-type]
        else:
            bounds.append([0.0, float(len(f.values or ()))])
    return {"num_vars": len(factors), "names": [f.name for f in factors], "bounds": bounds}


def value_at(factor: Factor, x: float) -> Any:
    """Map one sample coordinate ``x`` (problem units) to the factor's value."""
    if not factor.is_range:
        values = factor.values or ()
        return values[min(max(int(math.floor(x)), 0), len(values) - 1)]
    if factor.type == "int":
        return int(min(max(round(x), factor.low), factor.high))  # type: ignore[type-var]
    return float(x)


def design_rng(seed: int) -> np.random.Generator:
    """The random generator a sampling design draws from (see :data:`DESIGN_STREAM`)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(DESIGN_STREAM,)))


def build_design(factors: tuple[Factor, ...], spec: DesignSpec, seed: int) -> Design:
    """Make the points of a design.

    Parameters
    ----------
    factors : tuple of Factor
        What varies (validated by :mod:`civsim.experiments.spec`).
    spec : DesignSpec
        The design kind and its settings.
    seed : int
        Experiment seed; sampling designs draw from :func:`design_rng`.

    Returns
    -------
    Design
        Points in a fixed order: the same file always gives the same points.
    """
    if spec.kind == "grid":
        names = [f.name for f in factors]
        combos = itertools.product(*(grid_values(f) for f in factors))
        return Design("grid", factors, [dict(zip(names, c, strict=True)) for c in combos])
    if spec.kind == "list":
        names = [f.name for f in factors]
        cols = [grid_values(f) for f in factors]
        n = len(cols[0]) if cols else 1
        return Design(
            "list", factors, [{nm: col[i] for nm, col in zip(names, cols, strict=True)} for i in range(n)]
        )

    problem = salib_problem(factors)
    rng = design_rng(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SALib's advisory warnings (sample sizes, convergence)
        if spec.kind == "lhs":
            from SALib.sample import latin

            samples = latin.sample(problem, spec.samples, seed=rng)
        elif spec.kind == "sobol":
            from SALib.sample import sobol

            samples = sobol.sample(
                problem, spec.samples, calc_second_order=spec.second_order, scramble=True, seed=rng
            )
        elif spec.kind == "morris":
            from SALib.sample import morris

            samples = morris.sample(problem, spec.trajectories, num_levels=spec.levels, seed=rng)
        else:  # pragma: no cover - spec validation forbids it
            raise ValueError(f"unknown design kind {spec.kind!r}")
    samples = np.asarray(samples, dtype=float)
    points = [{f.name: value_at(f, x) for f, x in zip(factors, row, strict=True)} for row in samples]
    return Design(spec.kind, factors, points, samples=samples, problem=problem)


def expected_points(spec: DesignSpec, factors: tuple[Factor, ...]) -> int:
    """Number of points a design makes (for messages and tests)."""
    d = len(factors)
    if spec.kind == "grid":
        return math.prod(len(grid_values(f)) for f in factors)
    if spec.kind == "list":
        return len(grid_values(factors[0])) if factors else 1
    if spec.kind == "lhs":
        return int(spec.samples or 0)
    if spec.kind == "sobol":
        return int(spec.samples or 0) * (2 * d + 2 if spec.second_order else d + 2)
    return int(spec.trajectories or 0) * (d + 1)
