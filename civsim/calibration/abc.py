"""ABC-SMC inside the non-implausible region left by history matching.

Population Monte Carlo ABC (Beaumont et al. 2009; Toni et al. 2009):

- generation 0 draws ``N`` particles uniformly from the non-implausible
  region (the prior restricted to NROY) and accepts them all;
- generation ``t`` sets its tolerance ``eps_t`` to the ``quantile`` of the
  previous distances (never below ``epsilon``), proposes particles by
  resampling the previous population by weight and perturbing them with a
  Gaussian of twice its weighted covariance, discards proposals outside the
  prior box or NROY without running them, runs the rest, and accepts those
  with distance <= ``eps_t`` until ``N`` are accepted;
- weights ``w_i ∝ 1 / sum_j w_j K(theta_i | theta_j)`` (the prior is uniform).

The distance of a run is the root-mean-square standardised error over the
fit targets, ``sqrt(mean_j ((y_j - z_j) / s_j)^2)`` with
``s_j^2 = V_obs,j + V_disc,j``; each particle is one model run, so the
posterior carries the model's stochasticity. Stopping at ``epsilon = 1``
means the data are matched to within their stated errors on average.

Why not pyabc 0.13 itself: it draws proposals from numpy's global random
state (``np.random.choice`` in its transitions), so runs are not reproducible
from one recorded seed, and it evaluates one particle per model call, so many
parameter points cannot share one batch-core batch. The algorithm here is
pyabc's default ABC-SMC (multivariate normal transition, quantile epsilon),
with every proposal batch seeded by ``SeedSequence(seed, spawn_key=(20, t, k))``
and stored before it runs, so a resumed calibration repeats it exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.special import logsumexp

from civsim.calibration.emulator import scale
from civsim.calibration.history_matching import Wave, as_points, non_implausible, sample_nroy, to_theta
from civsim.calibration.runs import Evaluator, measure, stored_points
from civsim.calibration.spec import CalibrationSpec

STAGE_ABC = 2


@dataclass
class Generation:
    """One accepted population.

    Attributes
    ----------
    theta : ndarray, shape (N, parameters)
    weights : ndarray, shape (N,), summing to 1
    distances : ndarray, shape (N,)
    series : ndarray, shape (N, metrics, steps + 1)
        The accepted runs' series (posterior-predictive draws).
    epsilon : float
    runs : int
        Model runs this generation used.
    proposed : int
        Proposals drawn (including those discarded without a run).
    """

    index: int
    theta: np.ndarray
    weights: np.ndarray
    distances: np.ndarray
    series: np.ndarray
    epsilon: float
    runs: int
    proposed: int

    @property
    def acceptance(self) -> float:
        """Accepted / runs."""
        return len(self.weights) / self.runs if self.runs else float("nan")


@dataclass
class AbcResult:
    """All generations and why the sampler stopped."""

    generations: list[Generation] = field(default_factory=list)
    stopped: str = ""
    unfinished_runs: int = 0

    @property
    def runs(self) -> int:
        """Model runs of all generations."""
        return sum(g.runs for g in self.generations) + self.unfinished_runs

    @property
    def final(self) -> Generation:
        """The last complete generation (the posterior sample)."""
        return self.generations[-1]


def distances(y: np.ndarray, spec: CalibrationSpec) -> np.ndarray:
    """RMS standardised error of each run (rows of ``y``: fit targets); NaN counts as infinite."""
    z = np.array([t.value for t in spec.fit_targets])
    s = np.sqrt([t.sd**2 + spec.discrepancy_of(t) ** 2 for t in spec.fit_targets])
    d = np.sqrt(np.mean(((y - z) / s) ** 2, axis=1))
    return np.where(np.isfinite(d), d, np.inf)


def weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    """Quantile of ``x`` under weights ``w``."""
    order = np.argsort(x)
    cw = np.cumsum(w[order]) / np.sum(w)
    return float(x[order][min(np.searchsorted(cw, q), len(x) - 1)])


def _kernel_cov(theta: np.ndarray, w: np.ndarray) -> np.ndarray:
    cov = 2.0 * np.atleast_2d(np.cov(theta.T, aweights=w))
    return cov + 1e-12 * np.eye(theta.shape[1])


def _log_kernel(x: np.ndarray, centres: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """log N(x_i; centre_j, cov) for all pairs, shape (len(x), len(centres))."""
    chol = np.linalg.cholesky(cov)
    diff = x[:, None, :] - centres[None, :, :]
    sol = np.linalg.solve(chol, diff.reshape(-1, x.shape[1]).T).T.reshape(diff.shape)
    logdet = 2 * np.sum(np.log(np.diag(chol)))
    return -0.5 * (np.sum(sol**2, axis=-1) + logdet + x.shape[1] * math.log(2 * math.pi))


def run_abc(
    spec: CalibrationSpec,
    evaluator: Evaluator,
    waves: list[Wave],
    root,  # noqa: ANN001 - Path
    budget: int | None = None,
    progress: Callable[[str, int], Callable[[int], None]] | None = None,
) -> AbcResult:
    """ABC-SMC within the non-implausible region of ``waves`` (see module docstring).

    Parameters
    ----------
    budget : int, optional
        Model runs this stage may use; a generation that cannot finish within
        it is not started (the last complete one is the posterior).
    """
    o = spec.abc
    n, d = o["population"], len(spec.priors)
    res = AbcResult()
    used = 0
    fit = spec.fit_targets
    # the NROY region of the last wave that left anything (an empty one cannot be sampled)
    usable = [w for w in waves if w.nroy_fraction > 0]
    region = waves[: waves.index(usable[-1]) + 1] if usable else []

    def run_points(stage: str, key: tuple[int, ...], points: list[dict[str, float]], label: str):
        cb = progress(label, len(points)) if progress else None
        _, _, series = evaluator.run(stage, key, points, 1, cb)
        return series, distances(measure(series, evaluator.metrics, fit), spec)

    # generation 0: the prior restricted to NROY
    if budget is not None and n > budget:
        res.stopped = f"budget: {budget} runs cannot hold a population of {n}"
        return res

    def make0() -> list[dict[str, float]]:
        rng = np.random.default_rng(np.random.SeedSequence(spec.seed, spawn_key=(20, 0, 0)))
        x = sample_nroy(n, region, spec, rng) if region else rng.random((n, d))
        return as_points(to_theta(x, spec), spec)

    pts = stored_points(root, "abc-g0", make0)
    series, dist = run_points("abc-g0", (STAGE_ABC, 0, 0), pts, "ABC generation 0")
    used += len(pts)
    theta = np.array([[p[k] for k in spec.names] for p in pts])
    res.generations.append(
        Generation(
            0, theta, np.full(len(pts), 1 / len(pts)), dist, series, float(np.max(dist)), len(pts), len(pts)
        )
    )
    lo = np.array([p.low for p in spec.priors])
    hi = np.array([p.high for p in spec.priors])
    for t in range(1, o["generations"]):
        prev = res.final
        if prev.epsilon <= o["epsilon"]:
            res.stopped = f"tolerance reached: epsilon {prev.epsilon:.3g} <= {o['epsilon']:g}"
            break
        eps = max(weighted_quantile(prev.distances, prev.weights, o["quantile"]), o["epsilon"])
        cov = _kernel_cov(prev.theta, prev.weights)
        rate = max(prev.acceptance if t > 1 else o["quantile"], o["min_acceptance"])
        acc_theta, acc_dist, acc_series = [], [], []
        runs = proposed = 0
        k = 0
        stop = ""
        while len(acc_theta) < n:
            want = int(min(4 * n, max(n // 4, math.ceil((n - len(acc_theta)) / rate * 1.2))))
            if budget is not None and used + runs + want > budget:
                stop = f"budget of {budget} runs reached in generation {t}"
                break
            if runs > 0 and len(acc_theta) / runs < o["min_acceptance"] and runs >= 2 * n:
                stop = f"acceptance below {o['min_acceptance']:g} in generation {t}"
                break

            def make(
                t: int = t, k: int = k, want: int = want, prev: Generation = prev, cov: np.ndarray = cov
            ) -> list[dict[str, float]]:
                rng = np.random.default_rng(np.random.SeedSequence(spec.seed, spawn_key=(20, t, k)))
                out: list[np.ndarray] = []
                got = 0
                for _ in range(200):
                    idx = rng.choice(len(prev.weights), size=want, p=prev.weights)
                    cand = prev.theta[idx] + rng.multivariate_normal(np.zeros(d), cov, size=want)
                    inside = np.all((cand >= lo) & (cand <= hi), axis=1)
                    cand = cand[inside]
                    if region and len(cand):
                        cand = cand[non_implausible(scale(cand, spec.priors), region, spec)]
                    out.append(cand)
                    got += len(cand)
                    if got >= want:
                        break
                return as_points(np.concatenate(out)[:want], spec)

            pts = stored_points(root, f"abc-g{t}-b{k}", make)
            proposed += len(pts)
            if not pts:
                stop = f"no proposals inside the region in generation {t}"
                break
            s, dd = run_points(
                f"abc-g{t}-b{k}", (STAGE_ABC, t, k), pts, f"ABC generation {t} (eps {eps:.3g})"
            )
            runs += len(pts)
            ok = np.flatnonzero(dd <= eps)
            th = np.array([[p[name] for name in spec.names] for p in pts])
            for i in ok:
                if len(acc_theta) < n:
                    acc_theta.append(th[i])
                    acc_dist.append(dd[i])
                    acc_series.append(s[i])
            rate = max(len(acc_theta) / runs, o["min_acceptance"])
            k += 1
        used += runs
        if len(acc_theta) < n:
            res.stopped = stop or f"generation {t} incomplete"
            res.unfinished_runs = runs
            break
        theta = np.array(acc_theta)
        logw = -logsumexp(_log_kernel(theta, prev.theta, cov) + np.log(prev.weights)[None, :], axis=1)
        w = np.exp(logw - logw.max())
        res.generations.append(
            Generation(t, theta, w / w.sum(), np.array(acc_dist), np.array(acc_series), eps, runs, proposed)
        )
    else:
        res.stopped = f"all {o['generations']} generations done"
    if not res.stopped:
        res.stopped = f"tolerance reached: epsilon {res.final.epsilon:.3g} <= {o['epsilon']:g}"
    return res


def effective_sample_size(w: np.ndarray) -> float:
    """Kish's effective sample size of normalised weights."""
    return float(1.0 / np.sum(w**2))
