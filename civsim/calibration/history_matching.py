"""Waves of history matching: rule out the parameter space that cannot match the data.

For target ``j`` with observation ``z_j``, the implausibility of parameters
``x`` is (Vernon et al. 2010; Andrianakis et al. 2015)::

    I_j(x) = |z_j - E[f_j(x)]| / sqrt(V_em,j(x) + V_obs,j + V_disc,j + V_ens,j)

with ``E[f_j]`` and ``V_em,j`` the emulator's mean and variance, ``V_obs`` the
observation error, ``V_disc`` the model discrepancy and ``V_ens`` the
stochastic spread of single model runs (the world is one realisation).
``x`` is implausible when ``max_j I_j(x)`` exceeds the cutoff (3, after
Pukelsheim's three-sigma rule) under the emulators of *any* wave. Wave 1
samples the prior box by a Latin hypercube; wave ``k + 1`` samples uniformly
within what waves ``1..k`` left non-implausible (NROY).

References
----------
Vernon, I., Goldstein, M. and Bower, R. G. (2010). Galaxy formation: a Bayesian
uncertainty analysis. Bayesian Analysis 5(4): 619-669.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from civsim.calibration.emulator import Emulator, Validation, fit_emulator, scale, validate
from civsim.calibration.runs import Evaluator, measure, stored_points
from civsim.calibration.spec import CalibrationSpec

NROY_SAMPLES = 20_000
"""Uniform prior draws used to estimate the non-implausible share of the prior box."""
MAX_CANDIDATES = 400_000
STAGE_HM = 1


@dataclass
class Wave:
    """One wave: its design, simulated targets, emulators and what it ruled out.

    Attributes
    ----------
    theta : ndarray, shape (points, parameters)
    y_runs : ndarray, shape (points, replicates, fit targets)
        Every run's value of each fit target.
    emulators : list of Emulator (one per fit target)
    validations : list of Validation or None
    nroy_fraction : float
        Estimated share of the prior box still non-implausible after this wave.
    """

    index: int
    theta: np.ndarray
    y_runs: np.ndarray
    emulators: list[Emulator]
    validations: list[Validation | None]
    nroy_fraction: float = 1.0

    @property
    def y_mean(self) -> np.ndarray:
        """Mean over replicates, shape (points, targets)."""
        return np.nanmean(self.y_runs, axis=1)


def noise_var(spec: CalibrationSpec) -> np.ndarray:
    """Observation plus discrepancy variance of each fit target."""
    return np.array([t.sd**2 + spec.discrepancy_of(t) ** 2 for t in spec.fit_targets])


def implausibility(x_unit: np.ndarray, wave: Wave, spec: CalibrationSpec) -> np.ndarray:
    """Implausibility of each point for each fit target under one wave's emulators, shape (N, T)."""
    z = np.array([t.value for t in spec.fit_targets])
    other = noise_var(spec)
    out = np.empty((len(x_unit), len(z)))
    for j, em in enumerate(wave.emulators):
        mu, var = em.predict(x_unit)
        out[:, j] = np.abs(z[j] - mu) / np.sqrt(var + other[j] + em.ensemble_var)
    return out


def non_implausible(x_unit: np.ndarray, waves: list[Wave], spec: CalibrationSpec) -> np.ndarray:
    """Mask of points whose max implausibility is below the cutoff under every wave."""
    keep = np.ones(len(x_unit), dtype=bool)
    for w in waves:
        if not keep.any():
            break
        idx = np.flatnonzero(keep)
        keep[idx] = implausibility(x_unit[idx], w, spec).max(axis=1) < spec.hm["cutoff"]
    return keep


def sample_nroy(n: int, waves: list[Wave], spec: CalibrationSpec, rng: np.random.Generator) -> np.ndarray:
    """Up to ``n`` points drawn uniformly from the non-implausible region (unit cube).

    Draws candidates in rounds until ``n`` are found or
    :data:`MAX_CANDIDATES` were tried; returns fewer when the region is tiny.
    """
    d = len(spec.priors)
    found: list[np.ndarray] = []
    tried, total = 0, 0
    batch = max(4 * n, 2000)
    while total < n and tried < MAX_CANDIDATES:
        cand = rng.random((batch, d))
        tried += batch
        ok = cand[non_implausible(cand, waves, spec)]
        found.append(ok)
        total += len(ok)
    out = np.concatenate(found) if found else np.empty((0, d))
    return out[:n]


def to_theta(x_unit: np.ndarray, spec: CalibrationSpec) -> np.ndarray:
    """Unit-cube points back to parameter values."""
    lo = np.array([p.low for p in spec.priors])
    hi = np.array([p.high for p in spec.priors])
    return lo + np.asarray(x_unit) * (hi - lo)


def as_points(theta: np.ndarray, spec: CalibrationSpec) -> list[dict[str, float]]:
    """Rows of parameter values as dicts (plain floats, JSON-ready)."""
    return [{p.name: float(v) for p, v in zip(spec.priors, row, strict=True)} for row in theta]


def history_match(
    spec: CalibrationSpec,
    evaluator: Evaluator,
    root,  # noqa: ANN001 - Path
    progress: Callable[[str, int], Callable[[int], None]] | None = None,
    budget: int | None = None,
) -> list[Wave]:
    """Run the waves of history matching.

    Parameters
    ----------
    progress : callable, optional
        ``progress(label, total_runs)`` returns a callback advanced by runs done.
    budget : int, optional
        Stop before a wave that would take the runs used past this number.

    Returns
    -------
    list of Wave
        Stops early when the non-implausible region is empty (the last wave
        then has fraction 0) or nearly stops shrinking.
    """
    from scipy.stats import qmc

    waves: list[Wave] = []
    fit = spec.fit_targets
    n, reps, d = spec.hm["points"], spec.replicates, len(spec.priors)
    probe = np.random.default_rng(np.random.SeedSequence(spec.seed, spawn_key=(11,))).random(
        (NROY_SAMPLES, d)
    )
    used = 0
    for w in range(spec.hm["waves"]):
        if budget is not None and used + n * reps > budget:
            break

        def make(w: int = w) -> list[dict[str, float]]:
            rng = np.random.default_rng(np.random.SeedSequence(spec.seed, spawn_key=(10, w)))
            if w == 0:
                x = qmc.LatinHypercube(d=d, seed=rng).random(n)
            else:
                x = sample_nroy(n, waves, spec, rng)
            return as_points(to_theta(x, spec), spec)

        points = stored_points(root, f"hm{w + 1}", make)
        if not points:
            break
        cb = progress(f"wave {w + 1}", len(points) * reps) if progress else None
        _, _, series = evaluator.run(f"hm{w + 1}", (STAGE_HM, w), points, reps, cb)
        used += len(points) * reps
        y = measure(series, evaluator.metrics, fit).reshape(len(points), reps, len(fit))
        theta = np.array([[p[name] for name in spec.names] for p in points])
        x = scale(theta, spec.priors)
        ok = np.all(np.isfinite(y).all(axis=1), axis=1)
        ems, vals = [], []
        for j in range(len(fit)):
            ymean = y[ok, :, j].mean(axis=1)
            ens = float(np.mean(y[ok, :, j].var(axis=1, ddof=1))) if reps > 1 else 0.0
            vals.append(validate(x[ok], ymean, ens, seed=spec.seed + w))
            ems.append(fit_emulator(x[ok], ymean, ens, seed=spec.seed + w))
        wave = Wave(w + 1, theta, y, ems, vals)
        waves.append(wave)
        wave.nroy_fraction = float(non_implausible(probe, waves, spec).mean())
        if wave.nroy_fraction == 0.0:
            break
        if w > 0 and wave.nroy_fraction > 0.9 * waves[-2].nroy_fraction and wave.nroy_fraction < 1.0:
            break  # the region stopped shrinking: more waves would not rule out more
    return waves


def closest_fit(waves: list[Wave], spec: CalibrationSpec) -> dict:
    """The simulated point nearest the data, and the target that fails there.

    Distance is the largest standardised error of a point's mean over
    replicates, ``max_j |z_j - ybar_j| / sqrt(V_obs + V_disc + V_ens / reps)``.
    """
    fit = spec.fit_targets
    z = np.array([t.value for t in fit])
    best: dict = {"max_error": np.inf}
    for w in waves:
        ym = w.y_mean
        ens = np.array([em.ensemble_var for em in w.emulators])
        err = np.abs(ym - z) / np.sqrt(noise_var(spec) + ens / w.y_runs.shape[1])
        worst = np.nanmax(err, axis=1)
        i = int(np.nanargmin(worst))
        if worst[i] < best["max_error"]:
            j = int(np.nanargmax(err[i]))
            best = {
                "max_error": float(worst[i]),
                "wave": w.index,
                "params": dict(zip(spec.names, map(float, w.theta[i]), strict=True)),
                "values": dict(zip([t.name for t in fit], map(float, ym[i]), strict=True)),
                "failing_target": fit[j].name,
                "errors": dict(zip([t.name for t in fit], map(float, err[i]), strict=True)),
            }
    return best
