"""Running scenarios and writing their outputs: the library behind ``civsim run``."""

from __future__ import annotations

import json
import platform
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import civsim
from civsim import metrics
from civsim.batch import BatchModel
from civsim.model import CivicModel
from civsim.params import resolve
from civsim.seeding import replicate_sequences

ENGINES = ("mesa", "batch")
DEPENDENCIES = ("mesa", "numpy", "scipy", "pandas", "pyarrow", "solara", "SALib", "dask")


def simulate(
    params: dict[str, Any],
    seed: int = 0,
    steps: int = 120,
    reps: int = 1,
    engine: str = "auto",
    progress: Callable[[int, int], None] | None = None,
    before_step: Callable[[BatchModel], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run ``reps`` replicates of one parameter point.

    Parameters
    ----------
    params : dict
        Parameter overrides (validated) or a resolved dict.
    seed : int
        Recorded seed; replicate r uses ``SeedSequence(seed, spawn_key=(r,))``
        (a single run uses ``SeedSequence(seed)``).
    engine : {"auto", "mesa", "batch"}
        ``auto`` uses the batch core for more than one replicate, Mesa otherwise.
        Both give the same numbers.
    before_step : callable, optional
        Called with the batch model before each month's step (e.g. a room's
        decisions, :class:`civsim.rooms.plan.Plan`); needs ``engine="batch"``.

    Returns
    -------
    timeseries : DataFrame
        One row per replicate and step: ``rep``, ``step``, then the metrics.
    summaries : DataFrame
        One row per replicate (see :func:`civsim.metrics.summarise`).
    """
    p = resolve(params)
    if engine == "auto":
        engine = "batch" if reps > 1 else "mesa"
    if engine not in ENGINES:
        raise ValueError(f"engine {engine!r} is not allowed: expected one of {', '.join(ENGINES)}")
    seqs = replicate_sequences(seed, reps)
    if before_step is not None:
        if engine != "batch":
            raise ValueError("decisions (before_step) need the batch engine")
        model = BatchModel([p] * reps, seqs)
        for i in range(steps):
            before_step(model)
            model.step()
            if progress is not None:
                progress(i + 1, steps)
        frame = model.frame().rename(columns={"run": "rep"})
    elif engine == "batch":
        frame = BatchModel([p] * reps, seqs).run(steps, progress).frame().rename(columns={"run": "rep"})
    else:
        frames = []
        for r in range(reps):
            key = () if reps == 1 else (r,)
            model = CivicModel(p, seed=seed, key=key)
            for i in range(steps):
                model.step()
                if progress is not None:
                    progress(r * steps + i + 1, reps * steps)
            frames.append(model.frame().assign(rep=r))
        frame = pd.concat(frames, ignore_index=True)
    frame = frame[["rep"] + [c for c in frame.columns if c != "rep"]]
    summaries = pd.DataFrame(
        [
            {"rep": r, **{k: v for k, v in metrics.summarise(g).items() if k != "shocks"}}
            for r, g in frame.groupby("rep")
        ]
    )
    return frame, summaries


def versions() -> dict[str, str]:
    """civsim, Python and dependency versions, for manifests."""
    out = {"civsim": civsim.__version__, "python": platform.python_version()}
    for dep in DEPENDENCIES:
        try:
            out[dep] = metadata.version(dep)
        except metadata.PackageNotFoundError:
            out[dep] = "not installed"
    return out


def interval_table(summaries: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Mean and 90% interval (5th-95th percentile) of each summary metric over replicates."""
    rows = []
    for c in columns:
        x = summaries[c].to_numpy(dtype=float)
        x = x[np.isfinite(x)]
        rows.append(
            {
                "metric": c,
                "mean": float(x.mean()) if x.size else float("nan"),
                "p5": float(np.percentile(x, 5)) if x.size else float("nan"),
                "p95": float(np.percentile(x, 95)) if x.size else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def write_outputs(
    out: Path, timeseries: pd.DataFrame, summaries: pd.DataFrame, manifest: dict[str, Any], fmt: str = "csv"
) -> list[Path]:
    """Write ``timeseries.<fmt>``, ``summary.json``, ``manifest.json`` (and a plot) into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    ts = timeseries if timeseries["rep"].nunique() > 1 else timeseries.drop(columns="rep")
    paths = []
    if fmt == "parquet":
        paths.append(out / "timeseries.parquet")
        ts.to_parquet(paths[-1], index=False)
    else:
        paths.append(out / "timeseries.csv")
        ts.to_csv(paths[-1], index=False)
    summary = {
        "replicates": summaries.to_dict(orient="records"),
        "shocks": [
            {"rep": int(r), **s} for r, g in timeseries.groupby("rep") for s in metrics.summarise(g)["shocks"]
        ],
    }
    paths.append(out / "summary.json")
    paths[-1].write_text(
        json.dumps(_finite(summary), indent=2, default=_json_default, allow_nan=False) + "\n"
    )
    paths.append(out / "manifest.json")
    paths[-1].write_text(
        json.dumps(_finite(manifest), indent=2, default=_json_default, allow_nan=False) + "\n"
    )
    paths.append(out / "timeseries.png")
    plot_timeseries(timeseries, paths[-1], manifest.get("scenario", {}).get("name", ""))
    return paths


def _finite(x: Any) -> Any:
    """Replace NaN and infinities by None (JSON null), recursively, so the files are strict JSON."""
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    if isinstance(x, (float, np.floating)) and not np.isfinite(x):
        return None
    return x


def _json_default(x: Any) -> Any:
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating,)):
        return None if not np.isfinite(x) else float(x)
    if isinstance(x, tuple):
        return list(x)
    raise TypeError(f"cannot serialise {type(x)}")


PLOT_SERIES = ("outcome_index", "inclusion_gap", "engagement", "trust", "coordination_density", "budget")


def plot_timeseries(timeseries: pd.DataFrame, path: Path, title: str = "") -> None:
    """Plot the main series over time (mean and 90% band over replicates) to a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(12, 6.5), sharex=True)
    g = timeseries.groupby("step")
    for ax, name in zip(axes.ravel(), PLOT_SERIES, strict=True):
        mean = g[name].mean()
        ax.plot(mean.index / 12, mean.to_numpy(), color="C0")
        if timeseries["rep"].nunique() > 1:
            ax.fill_between(
                mean.index / 12, g[name].quantile(0.05), g[name].quantile(0.95), color="C0", alpha=0.25
            )
        ax.set_title(name.replace("_", " "))
        ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("year")
    fig.suptitle(f"civsim: {title}")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
