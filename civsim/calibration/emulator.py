"""Gaussian-process emulators of the model's targets (scikit-learn), with validation.

One emulator per target, fitted to the mean over replicates at each design
point, on parameters scaled to [0, 1] by their prior ranges. The kernel is a
constant times an anisotropic squared-exponential plus a white-noise term
(which absorbs the replicate noise of the means), as in Andrianakis et al.
(2015). The emulator's predictive variance (including the white term) enters
the implausibility measure.

References
----------
Andrianakis, I. et al. (2015). Bayesian history matching of complex infectious
disease models using emulation: a tutorial and a case study on HIV in Uganda.
PLoS Comput Biol 11(1): e1003968.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from civsim.calibration.spec import Prior


def scale(theta: np.ndarray, priors: list[Prior]) -> np.ndarray:
    """Map parameters to the unit cube of the prior box."""
    lo = np.array([p.low for p in priors])
    hi = np.array([p.high for p in priors])
    return (np.asarray(theta, dtype=float) - lo) / (hi - lo)


@dataclass
class Emulator:
    """A fitted GP emulator of one target.

    Attributes
    ----------
    gp : sklearn.gaussian_process.GaussianProcessRegressor
    ensemble_var : float
        Mean variance of single runs around their point's mean (the model's
        own stochastic spread), used in the implausibility.
    """

    gp: object
    ensemble_var: float

    def predict(self, x_unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Emulator mean and variance at points in the unit cube."""
        mu, sd = self.gp.predict(np.atleast_2d(x_unit), return_std=True)
        return mu, sd**2


def fit_emulator(x_unit: np.ndarray, y_mean: np.ndarray, ensemble_var: float, seed: int = 0) -> Emulator:
    """Fit one GP emulator.

    Parameters
    ----------
    x_unit : ndarray, shape (points, parameters)
        Design points scaled to [0, 1].
    y_mean : ndarray, shape (points,)
        Mean target value over replicates at each point.
    ensemble_var : float
        Mean within-point variance of single runs.
    seed : int
        Seed of the optimiser's restarts (fits are reproducible).
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

    d = x_unit.shape[1]
    kernel = ConstantKernel(1.0, (1e-3, 1e3)) * RBF(np.full(d, 0.3), (1e-2, 1e2)) + WhiteKernel(
        1e-2, (1e-8, 1.0)
    )
    gp = GaussianProcessRegressor(
        kernel=kernel, normalize_y=True, n_restarts_optimizer=2, random_state=seed, alpha=1e-10
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gp.fit(x_unit, y_mean)
    return Emulator(gp, float(ensemble_var))


@dataclass
class Validation:
    """Held-out check of an emulator.

    Attributes
    ----------
    simulated, predicted, sd : ndarray
        Held-out means, emulator means and emulator sd.
    within : float
        Share of held-out points within 3 emulator sd (should be >= 0.95).
    rmse : float
    """

    simulated: np.ndarray
    predicted: np.ndarray
    sd: np.ndarray
    within: float
    rmse: float


def validate(
    x_unit: np.ndarray, y_mean: np.ndarray, ensemble_var: float, holdout: float = 0.2, seed: int = 0
) -> Validation | None:
    """Fit on part of the points, predict the rest (a fixed, seeded split).

    Returns None when there are too few points to hold some out.
    """
    n = len(y_mean)
    k = int(round(n * holdout))
    if k < 3 or n - k < 5:
        return None
    order = np.random.default_rng(seed).permutation(n)
    test, train = order[:k], order[k:]
    em = fit_emulator(x_unit[train], y_mean[train], ensemble_var, seed)
    mu, var = em.predict(x_unit[test])
    sd = np.sqrt(var)
    err = y_mean[test] - mu
    return Validation(
        simulated=y_mean[test],
        predicted=mu,
        sd=sd,
        within=float(np.mean(np.abs(err) <= 3 * sd)),
        rmse=float(np.sqrt(np.mean(err**2))),
    )
