"""Using a posterior: read it, draw parameter sets from it, run scenarios with them.

``DIR/posterior.parquet`` has one column per calibrated parameter and a
``weight`` column (summing to 1). Runs drawn from it carry parameter
uncertainty as well as chance: replicate ``r`` uses posterior draw ``r``
(weighted resampling with ``SeedSequence(seed, spawn_key=(30,))``) and the
run seed ``SeedSequence(seed, spawn_key=(r,))``.

Library entry points for the app and notebooks: :func:`load_posterior`,
:func:`draw_points`, :func:`simulate_posterior`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from civsim.errors import UserError

POSTERIOR_FILE = "posterior.parquet"
SHIPPED = "posteriors"
"""Folder of :mod:`civsim.data` with shipped posteriors, one directory each (``<name>/posterior.parquet``)."""


def shipped_dir() -> Path:
    """Where the shipped posteriors live (inside the installed package)."""
    from importlib import resources

    return Path(str(resources.files("civsim.data"))) / SHIPPED


def shipped_posteriors() -> list[str]:
    """Names of the posteriors shipped with civsim (e.g. ``volunteering``), sorted."""
    root = shipped_dir()
    if not root.is_dir():
        return []
    return sorted(d.name for d in root.iterdir() if (d / POSTERIOR_FILE).is_file())


@dataclass(frozen=True)
class Posterior:
    """A weighted posterior sample.

    Attributes
    ----------
    path : pathlib.Path
        The ``posterior.parquet`` file.
    samples : DataFrame
        One column per parameter, plus ``weight``.
    sha256 : str
        Hash of the file (recorded in manifests of runs that use it).
    name : str
        The calibration's name (from its manifest, if present).
    """

    path: Path
    samples: pd.DataFrame
    sha256: str
    name: str = ""

    @property
    def names(self) -> list[str]:
        """Calibrated parameter names."""
        return [c for c in self.samples.columns if c != "weight"]

    def describe(self) -> dict[str, Any]:
        """What a manifest records about this posterior."""
        return {"path": str(self.path), "sha256": self.sha256, "name": self.name, "parameters": self.names}


def write_posterior(out: Path, theta: np.ndarray, weights: np.ndarray, names: list[str]) -> Path:
    """Write ``posterior.parquet`` (one column per parameter, plus ``weight``)."""
    frame = pd.DataFrame(theta, columns=names)
    frame["weight"] = weights / weights.sum()
    path = Path(out) / POSTERIOR_FILE
    tmp = path.with_name(f".{path.name}.tmp")
    frame.to_parquet(tmp, index=False)
    tmp.replace(path)
    return path


def load_posterior(directory: str | Path) -> Posterior:
    """Read a calibration's posterior: a calibration directory, its parquet file, or a shipped name.

    Raises
    ------
    UserError
        When the directory holds no valid posterior, or its parameters are
        no longer in the schema.
    """
    from civsim.params import SCHEMA

    d = Path(directory)
    if not d.exists() and str(directory) in shipped_posteriors():
        d = shipped_dir() / str(directory)
    path = d / POSTERIOR_FILE if d.is_dir() else d
    if not path.is_file():
        shipped = ", ".join(shipped_posteriors()) or "none"
        raise UserError(
            f"--posterior {directory}: no {POSTERIOR_FILE} there (run `civsim calibrate` first, "
            f"or name a shipped posterior: {shipped})"
        )
    try:
        samples = pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is a user error
        raise UserError(f"--posterior {directory}: cannot read {path.name} ({exc})") from None
    if "weight" not in samples.columns or len(samples) == 0:
        raise UserError(f"--posterior {directory}: {path.name} needs a weight column and at least one row")
    w = samples["weight"].to_numpy(dtype=float)
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise UserError(f"--posterior {directory}: weights must be finite, >= 0 and not all 0")
    for c in samples.columns:
        if c != "weight" and c not in SCHEMA:
            raise UserError(f"--posterior {directory}: parameter {c!r} is not in the schema any more")
    name = ""
    manifest = path.parent / "_manifest.json"
    if manifest.is_file():
        try:
            name = json.loads(manifest.read_text(encoding="utf-8")).get("name", "")
        except (OSError, json.JSONDecodeError):
            name = ""
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    return Posterior(path.resolve(), samples, sha, name)


def draw_points(posterior: Posterior, n: int, seed: int) -> list[dict[str, float]]:
    """``n`` parameter sets drawn from the posterior by weight (with replacement)."""
    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(30,)))
    w = posterior.samples["weight"].to_numpy(dtype=float)
    idx = rng.choice(len(w), size=n, p=w / w.sum())
    rows = posterior.samples.iloc[idx]
    return [{k: float(r[k]) for k in posterior.names} for _, r in rows.iterrows()]


def simulate_posterior(
    params: dict[str, Any],
    posterior: Posterior,
    seed: int = 0,
    steps: int = 120,
    reps: int = 32,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, list[dict[str, float]]]:
    """Run ``reps`` replicates of a scenario, each with its own posterior draw.

    Parameters
    ----------
    params : dict
        The scenario's parameters (the posterior's parameters replace theirs).

    Returns
    -------
    timeseries, summaries : DataFrame
        As :func:`civsim.simulate.simulate` (batch core).
    draws : list of dict
        The parameter set of each replicate.
    """
    from civsim import metrics
    from civsim.batch import BatchModel
    from civsim.params import ParamError, resolve
    from civsim.seeding import replicate_sequences

    draws = draw_points(posterior, reps, seed)
    try:
        points = [resolve({**params, **d}) for d in draws]
    except ParamError as exc:
        raise UserError(f"--posterior {posterior.path.parent}: a draw is not allowed here ({exc})") from None
    frame = BatchModel(points, replicate_sequences(seed, reps)).run(steps, progress).frame()
    frame = frame.rename(columns={"run": "rep"})
    frame = frame[["rep"] + [c for c in frame.columns if c != "rep"]]
    summaries = pd.DataFrame(
        [
            {"rep": r, **{k: v for k, v in metrics.summarise(g).items() if k != "shocks"}}
            for r, g in frame.groupby("rep")
        ]
    )
    return frame, summaries, draws
