"""The whole calibration: history matching, then ABC-SMC, then the report.

:func:`calibrate` is the library call behind ``civsim calibrate``. A results
directory holds ``_manifest.json`` (the file, its hash, seed, resolved
parameters, model fingerprint, versions, runs used), ``runs/`` and
``stages/`` (every run and every stage's parameter points, written as they
finish), ``posterior.parquet``, ``summary.json`` and ``report.md`` with its
figures. Rerunning the same command after a crash or ``kill -9`` resumes:
stages are replayed from disk and only missing chunks run. Pointing a
changed file, or a changed model, at an existing directory is refused.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from civsim.calibration.abc import AbcResult, distances, run_abc
from civsim.calibration.history_matching import Wave, closest_fit, history_match
from civsim.calibration.posterior import write_posterior
from civsim.calibration.runs import chunk_size_for, measure, open_evaluator
from civsim.calibration.spec import CalibrationSpec
from civsim.errors import UserError
from civsim.experiments.storage import MANIFEST, ResultStore, atomic_write_bytes

ProgressFactory = Callable[[str, int], Callable[[int], None]]


@dataclass
class CalibrationResult:
    """Everything a calibration produced (see :func:`calibrate`)."""

    spec: CalibrationSpec
    out: Path
    waves: list[Wave]
    abc: AbcResult
    metrics: tuple[str, ...]
    closest: dict[str, Any]
    rejection: dict[str, Any]
    seconds: float
    runs_simulated: int

    @property
    def runs_total(self) -> int:
        """Model runs the calibration used (history matching + ABC)."""
        hm = sum(w.y_runs.shape[0] * w.y_runs.shape[1] for w in self.waves)
        return hm + self.abc.runs


def _identity(spec: CalibrationSpec) -> dict[str, Any]:
    from civsim.experiments.runner import model_fingerprint

    return {
        "file_sha256": spec.hash,
        "engine": spec.engine,
        "model": model_fingerprint("batch" if spec.engine == "batch" else "toy"),
    }


def _prepare(spec: CalibrationSpec, store: ResultStore, resolved: dict[str, Any]) -> dict[str, Any]:
    from civsim.simulate import versions

    ident = _identity(spec)
    if store.manifest_path.exists():
        try:
            old = json.loads(store.manifest_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            raise UserError(f"--out {store.root}: {MANIFEST} is unreadable; choose a new directory") from None
        if old.get("kind") != "calibration":
            raise UserError(f"--out {store.root}: holds a sweep, not a calibration; choose another --out")
        if old.get("identity") != ident:
            what = (
                "the calibration file"
                if old["identity"].get("file_sha256") != ident["file_sha256"]
                else ("the model's code")
            )
            raise UserError(
                f"--out {store.root}: holds a calibration made with different inputs ({what} changed); "
                "choose a new --out or delete the directory"
            )
        return old
    manifest = {
        "kind": "calibration",
        "name": spec.name,
        "file": spec.path,
        "text": spec.text,
        "identity": ident,
        "seed": spec.seed,
        "scenario": spec.scenario,
        "start": spec.start,
        "steps": spec.steps,
        "citizens": spec.citizens,
        "replicates": spec.replicates,
        "priors": {p.name: [p.low, p.high] for p in spec.priors},
        "targets": [t.as_dict() for t in spec.targets],
        "discrepancy": spec.discrepancy,
        "history_matching": spec.hm,
        "abc": spec.abc,
        "resolved_params": {k: (list(v) if isinstance(v, tuple) else v) for k, v in resolved.items()},
        "seed_rule": "SeedSequence(seed, spawn_key=(stage, wave or generation[, batch], point, replicate))",
        "versions": versions() | _extra_versions(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "status": "running",
        "sessions": [],
    }
    store.root.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(store.manifest_path, (json.dumps(manifest, indent=2) + "\n").encode())
    return manifest


def _extra_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("scikit-learn", "scipy", "matplotlib"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def rejection_comparison(spec: CalibrationSpec, waves: list[Wave], abc: AbcResult) -> dict[str, Any]:
    """Runs plain rejection ABC would need for the same population at the same tolerance.

    Rejection ABC from the prior accepts a run with probability ``p`` and so
    needs ``N / p`` runs for ``N`` particles. Two estimates of ``p``:

    - *via NROY*: ABC generation 0 is uniform on the non-implausible region,
      so ``p ~= (NROY share of the prior) x (share of generation 0 within
      the final tolerance)`` (runs outside NROY are taken never to be
      accepted: they are over 3 sd from some target);
    - *direct*: wave 1 is a Latin hypercube on the whole prior, so its runs
      are prior-predictive draws; the share within the tolerance is ``p``
      (the rule of three bounds it by ``3 / runs`` when none is).
    """
    if not waves or not abc.generations:
        return {}
    eps, n = abc.final.epsilon, len(abc.final.weights)
    y = waves[0].y_runs.reshape(-1, waves[0].y_runs.shape[-1])
    d = distances(y, spec)
    hits = int(np.sum(d <= eps))
    g0 = abc.generations[0]
    share0 = float(np.mean(g0.distances <= eps))
    usable = [w for w in waves if w.nroy_fraction > 0]
    nroy = usable[-1].nroy_fraction if usable else 1.0
    p_nroy = nroy * share0
    return {
        "epsilon": eps,
        "population": n,
        "nroy_fraction": nroy,
        "generation0_within": share0,
        "runs_needed": int(np.ceil(n / p_nroy)) if p_nroy > 0 else None,
        "prior_runs": len(d),
        "prior_runs_within": hits,
        "runs_needed_direct": int(np.ceil(n * len(d) / max(hits, 3))),
        "direct_is_lower_bound": hits < 3,
    }


def calibrate(
    spec: CalibrationSpec,
    out: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    budget: int | None = None,
    backend: str = "auto",
    progress: ProgressFactory | None = None,
    report: bool = True,
) -> CalibrationResult:
    """Calibrate a model to data: history-matching waves, then ABC-SMC in what remains.

    Parameters
    ----------
    spec : CalibrationSpec
        From :func:`civsim.calibration.spec.load_calibration`.
    out : path
        Results directory (resumed when it holds the same calibration).
    workers, scheduler, backend
        As ``civsim sweep``: ``auto`` runs in-process with one worker, else on
        a local Dask cluster, or on the cluster at ``scheduler``.
    budget : int, optional
        Most model runs to use in all (history matching + ABC).
    progress : callable, optional
        ``progress(label, total)`` returns a callback advanced by runs done.
    report : bool
        Write ``report.md`` and figures.

    Returns
    -------
    CalibrationResult
    """
    from civsim.params import resolve

    t0, c0 = time.perf_counter(), time.process_time()
    store = ResultStore(out)
    resolved = resolve(spec.base)
    metrics = tuple(dict.fromkeys(t.metric for t in spec.targets))
    from threadpoolctl import threadpool_limits

    # small dense algebra (GP fits on <= a few hundred points): BLAS threads only contend
    with store.lock(), threadpool_limits(limits=1):
        manifest = _prepare(spec, store, resolved)
        with open_evaluator(
            store.root,
            spec.engine,
            spec.base,
            spec.steps,
            spec.seed,
            metrics,
            chunk_size_for(spec.citizens),
            workers,
            scheduler,
            backend,
        ) as ev:
            waves = history_match(spec, ev, store.root, progress, budget)
            if not waves:
                raise UserError(
                    f"--budget {budget}: too small for one history-matching wave "
                    f"({spec.hm['points']} points x {spec.replicates} replicates)"
                )
            hm_runs = sum(w.y_runs.shape[0] * w.y_runs.shape[1] for w in waves)
            if waves[-1].nroy_fraction == 0.0:
                abc = AbcResult(
                    stopped="not run: history matching ruled out the whole prior after wave "
                    f"{waves[-1].index} "
                    f"(no parameter set is within implausibility {spec.hm['cutoff']:g} of every target)"
                )
            else:
                left = None if budget is None else budget - hm_runs
                abc = run_abc(spec, ev, waves, store.root, left, progress)
        closest = closest_fit(waves, spec)
        rejection = rejection_comparison(spec, waves, abc)
        result = CalibrationResult(
            spec,
            store.root,
            waves,
            abc,
            metrics,
            closest,
            rejection,
            time.perf_counter() - t0,
            ev.runs_simulated,
        )
        if abc.generations:
            g = abc.final
            write_posterior(store.root, g.theta, g.weights, spec.names)
        summary = summarise(result)
        atomic_write_bytes(store.root / "summary.json", (json.dumps(summary, indent=2) + "\n").encode())
        manifest["sessions"].append(
            {
                "finished": datetime.now(UTC).isoformat(timespec="seconds"),
                "seconds": round(result.seconds, 2),
                "runs_simulated": ev.runs_simulated,
                "cpu_seconds_model_runs": round(ev.cpu_seconds, 1),
                "cpu_seconds_main_process": round(time.process_time() - c0, 1),
                "load_average_1min": round(os.getloadavg()[0], 2),
                "workers": ev.workers,
                "budget": budget,
            }
        )
        manifest["status"] = "complete" if abc.generations else "no posterior"
        manifest["runs_total"] = result.runs_total
        atomic_write_bytes(store.manifest_path, (json.dumps(manifest, indent=2) + "\n").encode())
        if report:
            from civsim.calibration.report import write_report

            write_report(result, summary)
    return result


def predictive(result: CalibrationResult) -> dict[str, dict[str, float]]:
    """Posterior-predictive summary of every target from the final ABC population.

    For each target: the weighted 5/50/95% of the model value over accepted
    runs, and the 90% interval of a predicted *observation* (model value plus
    observation error and discrepancy, drawn with a fixed seed).
    """
    spec = result.spec
    g = result.abc.final
    y = measure(g.series, result.metrics, spec.targets)
    rng = np.random.default_rng(np.random.SeedSequence(spec.seed, spawn_key=(40,)))
    out = {}
    w = g.weights
    for j, t in enumerate(spec.targets):
        col = y[:, j]
        s = np.sqrt(t.sd**2 + spec.discrepancy_of(t) ** 2)
        idx = rng.choice(len(w), size=4000, p=w)
        obs = col[idx] + rng.normal(0, s, size=4000)
        q = _wq(col, w, [0.05, 0.5, 0.95])
        lo, hi = np.quantile(obs, [0.05, 0.95])
        out[t.name] = {
            "role": t.role,
            "observed": t.value,
            "sd": t.sd,
            "discrepancy": spec.discrepancy_of(t),
            "model_p5": q[0],
            "model_median": q[1],
            "model_p95": q[2],
            "obs_p5": float(lo),
            "obs_p95": float(hi),
            "covered": bool(lo <= t.value <= hi),
            "z": float((t.value - q[1]) / s) if s > 0 else float("nan"),
        }
    return out


def _wq(x: np.ndarray, w: np.ndarray, qs: list[float]) -> list[float]:
    from civsim.calibration.abc import weighted_quantile

    ok = np.isfinite(x)
    return [weighted_quantile(x[ok], w[ok], q) for q in qs] if ok.any() else [float("nan")] * len(qs)


def summarise(result: CalibrationResult) -> dict[str, Any]:
    """The numbers of a calibration, JSON-ready (``summary.json``; the report is made from them)."""
    spec = result.spec
    out: dict[str, Any] = {
        "name": spec.name,
        "seconds": round(result.seconds, 2),
        "runs_total": result.runs_total,
        "runs_simulated_this_session": result.runs_simulated,
        "waves": [
            {
                "wave": w.index,
                "points": int(w.theta.shape[0]),
                "runs": int(w.y_runs.shape[0] * w.y_runs.shape[1]),
                "nroy_fraction": w.nroy_fraction,
                "emulators": [
                    None if v is None else {"target": t.name, "within_3sd": v.within, "rmse": v.rmse}
                    for t, v in zip(spec.fit_targets, w.validations, strict=True)
                ],
            }
            for w in result.waves
        ],
        "abc": {
            "stopped": result.abc.stopped,
            "generations": [
                {"generation": g.index, "epsilon": g.epsilon, "runs": g.runs, "acceptance": g.acceptance}
                for g in result.abc.generations
            ],
        },
        "closest_fit": result.closest,
        "rejection_abc": result.rejection,
    }
    if result.abc.generations:
        g = result.abc.final
        post = {}
        for i, p in enumerate(spec.priors):
            q = _wq(g.theta[:, i], g.weights, [0.05, 0.5, 0.95])
            post[p.name] = {
                "prior": [p.low, p.high],
                "mean": float(np.sum(g.weights * g.theta[:, i])),
                "p5": q[0],
                "median": q[1],
                "p95": q[2],
                "shrinkage": 1 - (q[2] - q[0]) / (0.9 * p.width),
            }
        out["posterior"] = post
        out["predictive"] = predictive(result)
        fit = [v for v in out["predictive"].values() if v["role"] == "fit"]
        out["reproduces_data"] = bool(all(v["covered"] for v in fit))
    else:
        out["reproduces_data"] = False
    return out
