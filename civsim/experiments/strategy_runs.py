"""Running a strategy experiment (one sweep per strategy, seeds paired) and reading it back.

Strategy ``s`` is stored in ``OUT/strategy=<s>/``; ``OUT/_strategies.json`` guards
the directory (see :mod:`civsim.experiments.futures`).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from civsim.errors import UserError
from civsim.experiments.strategy_types import FORMAT, STRATEGIES_MANIFEST, StrategyExperiment, _jsonable


def strategy_dir(out: Path | str, name: str) -> Path:
    """The sweep directory of one strategy: ``OUT/strategy=<name>``."""
    return Path(out) / f"strategy={name}"


def _prepare_root(sx: StrategyExperiment, out: Path) -> None:
    """Create ``out`` or check it holds this strategy experiment."""
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: is a file, not a directory; choose another --out")
    manifest = out / STRATEGIES_MANIFEST
    new = {
        "format": FORMAT,
        "identity": sx.identity(),
        "experiment": str(sx.base.path),
        "strategies": [
            {"name": s.name, "description": s.description, "levers": _jsonable(s.levers)}
            for s in sx.strategies
        ],
        "uncertainties": list(sx.uncertainties),
        "levers": list(sx.lever_names),
    }
    if manifest.is_file():
        try:
            old = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UserError(f"{manifest}: cannot read the manifest: {exc}") from None
        if old.get("identity") != new["identity"]:
            changed = sorted(
                k for k in new["identity"] if old.get("identity", {}).get(k) != new["identity"][k]
            )
            raise UserError(
                f"--out {out}: holds results of a different strategy experiment "
                f"({old.get('experiment', '?')}; changed: {', '.join(changed)}); "
                "use a new --out directory, or delete this one to start over"
            )
        return
    if out.is_dir() and any(not p.name.startswith(".") for p in out.iterdir()):
        raise UserError(
            f"--out {out}: exists and is not a strategy results directory "
            f"(no {STRATEGIES_MANIFEST}); choose a new or empty directory"
        )
    out.mkdir(parents=True, exist_ok=True)
    from civsim.experiments.storage import atomic_write_bytes

    atomic_write_bytes(manifest, (json.dumps(new, indent=1) + "\n").encode("utf-8"))


@dataclass
class StrategyRunResult:
    """What :func:`run_strategies` did: one sweep result per strategy."""

    out: Path
    results: dict[str, Any]

    @property
    def runs_run(self) -> int:
        """Runs simulated by this call."""
        return sum(r.runs_run for r in self.results.values())

    @property
    def n_runs(self) -> int:
        """Runs of the whole experiment."""
        return sum(r.n_runs for r in self.results.values())

    @property
    def seconds(self) -> float:
        """Simulation wall time of this call."""
        return sum(r.seconds for r in self.results.values())


def run_strategies(
    sx: StrategyExperiment,
    out: Path | str,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    backend: str = "auto",
    engine: str = "batch",
    progress: bool | Callable[[str, int, int], None] = False,
) -> StrategyRunResult:
    """Run every strategy in every future (resuming what is on disk).

    Parameters
    ----------
    sx : StrategyExperiment
        The validated experiment.
    out : path
        Results directory; strategy ``s`` goes to ``out/strategy=s``.
    workers, scheduler, backend, engine :
        As for :func:`civsim.experiments.runner.run_sweep`. With several
        workers and no scheduler, one local Dask cluster serves every
        strategy.
    progress : bool or callable
        True: a progress bar per strategy; a callable gets
        ``(strategy, runs_done, runs_total)``.

    Returns
    -------
    StrategyRunResult
    """
    from civsim.experiments.executors import available_cores, open_executor
    from civsim.experiments.runner import run_sweep

    out = Path(out)
    _prepare_root(sx, out)
    workers = workers or available_cores()
    results: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        if scheduler is None and backend in ("auto", "dask") and workers > 1:
            ex = stack.enter_context(open_executor("dask", workers))
            client = getattr(ex, "_client", None)  # distributed.ClientExecutor keeps its client here
            address = getattr(getattr(client, "scheduler", None), "address", None)
            if address:
                scheduler, backend = address, "dask"
        for s in sx.strategies:
            cb: Any = progress is True
            if callable(progress):
                name = s.name

                def cb(done: int, total: int, _name: str = name) -> None:
                    progress(_name, done, total)  # type: ignore[operator]

            results[s.name] = run_sweep(
                sx.experiment_for(s),
                strategy_dir(out, s.name),
                workers=workers,
                scheduler=scheduler,
                backend=backend,
                engine=engine,
                progress=cb,
            )
    return StrategyRunResult(out=out, results=results)


def is_strategy_dir(path: Path | str) -> bool:
    """True for a directory written by :func:`run_strategies`."""
    return (Path(path) / STRATEGIES_MANIFEST).is_file()


def load_strategy_results(
    out: Path | str, *, require_complete: bool = True
) -> tuple[dict[str, Any], pd.DataFrame]:
    """The manifest and the tidy per-run rows of every strategy.

    Returns
    -------
    manifest : dict
        The ``_strategies.json`` contents.
    frame : pandas.DataFrame
        Columns ``strategy``, ``future`` (the future's index, the same under
        every strategy), ``replicate``, ``run``, ``point``, the uncertainties,
        one column per lever (the strategy's resolved value) and the outputs;
        series sweeps keep their ``step`` column.

    Raises
    ------
    UserError
        Not a strategy directory, or a strategy's sweep is unfinished.
    """
    from civsim.experiments.results import load_results

    root = Path(out)
    try:
        manifest = json.loads((root / STRATEGIES_MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(
            f"{root}: not a strategy results directory (no {STRATEGIES_MANIFEST}); "
            f"run `civsim sweep STRATEGY_EXPERIMENT --out {root}`"
        ) from None
    except (OSError, ValueError) as exc:
        raise UserError(f"{root / STRATEGIES_MANIFEST}: cannot read the manifest: {exc}") from None
    frames = []
    levers = manifest.get("levers", [])
    for s in manifest["strategies"]:
        sub = strategy_dir(root, s["name"])
        if not sub.is_dir():
            raise UserError(
                f"{root}: strategy {s['name']!r} has not run yet; "
                f"finish it with `civsim sweep {manifest.get('experiment', 'EXPERIMENT')} --out {root}`"
            )
        try:
            sub_manifest, frame = load_results(sub, require_complete=require_complete)
        except UserError as exc:
            if "unfinished" not in str(exc):
                raise
            raise UserError(
                f"{root}: strategy {s['name']!r} is unfinished; finish it with "
                f"`civsim sweep {manifest.get('experiment', 'EXPERIMENT')} --out {root}`"
            ) from None
        base = sub_manifest["identity"]["base"]
        frame = frame.copy()
        frame.insert(0, "strategy", s["name"])
        frame.insert(1, "future", frame["point"].astype("int64"))
        for lever in levers:
            if lever in base and lever not in frame.columns:
                frame[lever] = base[lever]
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return manifest, table
