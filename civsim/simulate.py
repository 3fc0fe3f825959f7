"""Running scenarios and writing their outputs: the library behind ``civsim run``."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import sys
import tempfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import civsim
from civsim import metrics
from civsim.batch import BatchModel
from civsim.errors import UserError
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
    before_step: Callable[[Any], None] | None = None,
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
        Called with the model before each month's step (e.g. a room's
        decisions, :class:`civsim.rooms.plan.Plan`); on the batch core once
        for all replicates, on Mesa for each replicate's model.

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
    if before_step is not None and engine == "batch":
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
                if before_step is not None:
                    before_step(model)
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


RUN_FILES = frozenset(
    {"timeseries.csv", "timeseries.parquet", "summary.json", "manifest.json", "timeseries.png"}
)
"""The files one ``civsim run`` writes: a directory holding only these is a run directory."""
RUN_KIND = "civsim-run/1"


def is_run_dir(path: Path) -> bool:
    """True when ``path`` is a directory holding one civsim run (only :data:`RUN_FILES`)."""
    try:
        names = {p.name for p in path.iterdir()}
    except OSError:
        return False
    return bool(names) and names <= RUN_FILES and "manifest.json" in names


def check_destination(out: Path, force: bool = False) -> Path:
    """Check ``--out`` before simulating and make the temporary directory the run is written into.

    A run directory holds exactly one run: a missing or empty directory, or
    one holding an earlier run (:func:`is_run_dir`), is fine (it is replaced
    whole by :func:`write_outputs`); anything else (a file, a sweep, other
    files) is refused unless ``force``. The temporary directory is made next
    to ``out`` now, so a read-only or missing place fails before any work.

    Returns
    -------
    pathlib.Path
        The temporary directory (hidden, beside ``out``).

    Raises
    ------
    UserError
        One line naming ``--out`` and what is wrong.
    """
    out = Path(out)
    if str(out).strip() == "":
        raise UserError("--out '' is not allowed: give a directory")
    if os.path.lexists(out) and (out.is_symlink() or not out.is_dir()):
        what = "a symbolic link" if out.is_symlink() else "a file"
        raise UserError(f"--out {out}: is {what}, not a directory; choose another --out")
    if out.is_dir():
        try:
            empty = not any(out.iterdir())
        except OSError as exc:
            raise UserError(f"--out {out}: cannot read the directory ({exc.strerror or exc})") from None
        if not empty and not is_run_dir(out):
            if not force:
                sweep = " (it holds a sweep)" if (out / "_manifest.json").exists() else ""
                raise UserError(
                    f"--out {out}: holds files that are not a civsim run{sweep}; "
                    "choose a new or empty directory, or add --force to replace it whole"
                )
            _check_force(out)
    parent = out.absolute().parent
    for p in (parent, *parent.parents):  # a file where a directory is needed
        if os.path.lexists(p) and not p.is_dir():
            raise UserError(f"--out {out}: {p} is a file, not a directory; choose another --out")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=parent))
        mask = os.umask(0o022)
        os.umask(mask)
        os.chmod(tmp, 0o777 & ~mask)  # as a plain mkdir would make it
        return tmp
    except OSError as exc:
        raise UserError(f"--out {out}: cannot write there ({exc.strerror or exc})") from None


def _check_force(out: Path) -> None:
    """``--force`` never deletes the current directory, an ancestor of it, home or /."""
    target = out.resolve()
    cwd = Path.cwd().resolve()
    if (
        target == Path(target.anchor)
        or target == Path.home().resolve()
        or cwd == target
        or target in cwd.parents
    ):
        raise UserError(
            f"--out {out}: refusing to replace the current directory, one holding it, your home or /"
        )


def write_outputs(
    out: Path,
    timeseries: pd.DataFrame,
    summaries: pd.DataFrame,
    manifest: dict[str, Any],
    fmt: str = "csv",
    tmp: Path | None = None,
) -> list[Path]:
    """Write ``timeseries.<fmt>``, ``summary.json``, ``manifest.json`` (and a plot) as the directory ``out``.

    Everything is written into a temporary directory beside ``out`` (``tmp``,
    from :func:`check_destination`), which then replaces ``out`` whole, in
    one atomic exchange where the system offers it: ``out`` holds either the
    earlier run or this one, never a mixture, and a failed write leaves the
    earlier run as it was.

    Raises
    ------
    UserError
        When the files cannot be written (full disk, read-only place).
    """
    out = Path(out)
    if tmp is None:
        tmp = check_destination(out, force=False)
    try:
        names = _write_files(tmp, timeseries, summaries, {"kind": RUN_KIND, **manifest}, fmt)
        for name in names:
            with open(tmp / name, "rb") as fh:
                os.fsync(fh.fileno())
        _swap_in(tmp, out)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise UserError(f"--out {out}: cannot write the results ({exc.strerror or exc})") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return [out / n for n in names]


def _write_files(
    out: Path, timeseries: pd.DataFrame, summaries: pd.DataFrame, manifest: dict[str, Any], fmt: str
) -> list[str]:
    ts = timeseries if timeseries["rep"].nunique() > 1 else timeseries.drop(columns="rep")
    names = []
    if fmt == "parquet":
        names.append("timeseries.parquet")
        ts.to_parquet(out / names[-1], index=False)
    else:
        names.append("timeseries.csv")
        ts.to_csv(out / names[-1], index=False)
    summary = {
        "replicates": summaries.to_dict(orient="records"),
        "shocks": [
            {"rep": int(r), **s} for r, g in timeseries.groupby("rep") for s in metrics.summarise(g)["shocks"]
        ],
    }
    names.append("summary.json")
    (out / names[-1]).write_text(
        json.dumps(_finite(summary), indent=2, default=_json_default, allow_nan=False) + "\n"
    )
    names.append("manifest.json")
    (out / names[-1]).write_text(
        json.dumps(_finite(manifest), indent=2, default=_json_default, allow_nan=False) + "\n"
    )
    names.append("timeseries.png")
    plot_timeseries(timeseries, out / names[-1], manifest.get("scenario", {}).get("name", ""))
    return names


_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False if unavailable."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    rc = fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return rc == 0


def _swap_in(tmp: Path, out: Path) -> None:
    """Make ``tmp`` become ``out``; the earlier ``out`` (if any) is removed afterwards."""
    if not os.path.lexists(out):
        os.rename(tmp, out)
    elif _exchange(tmp, out):
        shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the earlier run
    else:  # two renames: out is briefly absent, never mixed
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.absolute().parent))
        os.rename(out, old / "run")
        os.rename(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    with contextlib.suppress(OSError):
        fd = os.open(out.absolute().parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


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
