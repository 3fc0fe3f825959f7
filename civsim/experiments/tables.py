"""Reading DATA for ``civsim discover`` and ``civsim robust``.

DATA is a sweep directory (``civsim sweep`` of an ordinary experiment), a
strategy directory (``civsim sweep`` of a strategy experiment), or any CSV or
Parquet table with one column per factor and one per metric -- so
researchers can use the analyses on data from any model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from civsim.errors import UserError
from civsim.experiments.strategy_types import _hint

ID_COLUMNS: tuple[str, ...] = ("strategy", "future", "run", "point", "replicate", "step", "seed")
"""Columns that name a run rather than describe it (never factors by default)."""


@dataclass
class Dataset:
    """A table to analyse, with what is known about its columns.

    Attributes
    ----------
    source : str
        What was read (for messages).
    frame : pandas.DataFrame
        One row per run (sweeps) or per row of the table.
    kind : str
        ``"strategies"``, ``"sweep"`` or ``"table"``.
    factors : list of str
        Default factors: the uncertainties or the sweep's factors; for a
        plain table every column but the ids.
    strategies : list of str
        Strategy names, in file order (empty unless ``kind == "strategies"``).
    noun : str
        What a row is, in words (``"futures"``, ``"points"``, ``"rows"``).
    """

    source: str
    frame: pd.DataFrame
    kind: str
    factors: list[str]
    strategies: list[str] = field(default_factory=list)
    noun: str = "rows"
    levers: list[str] = field(default_factory=list)


def load_dataset(data: Path | str) -> Dataset:
    """Read DATA (a sweep or strategy directory, a ``.csv`` or a ``.parquet``).

    Raises
    ------
    UserError
        Missing file, unreadable table, empty table -- one line.
    """
    from civsim.experiments.futures import is_strategy_dir, load_strategy_results
    from civsim.experiments.results import factor_names, load_results, per_run_outputs
    from civsim.experiments.storage import MANIFEST

    path = Path(data)
    if not path.exists():
        raise UserError(
            f"{path}: no such file or directory; give a sweep directory, a .csv or a .parquet file"
        )
    if path.is_dir() and is_strategy_dir(path):
        manifest, frame = load_strategy_results(path)
        if "step" in frame.columns:
            frame = _per_run_series(frame)
        ds = Dataset(
            str(path),
            frame,
            "strategies",
            list(manifest.get("uncertainties", [])),
            [s["name"] for s in manifest["strategies"]],
            "futures",
            list(manifest.get("levers", [])),
        )
    elif path.is_dir() and (path / MANIFEST).is_file():
        manifest, frame = load_results(path)
        frame = per_run_outputs(manifest, frame)
        ds = Dataset(str(path), frame, "sweep", factor_names(manifest), noun="points")
    else:
        frame = _read_table(path)
        ds = Dataset(str(path), frame, "table", [c for c in frame.columns if c not in ID_COLUMNS])
    if ds.frame.empty:
        raise UserError(f"{path}: the table is empty (no rows); nothing to analyse")
    return ds


def _per_run_series(frame: pd.DataFrame) -> pd.DataFrame:
    """Series rows -> one row per run: final and mean of each metric."""
    keys = [c for c in frame.columns if c in ID_COLUMNS and c != "step"]
    metrics = [c for c in frame.columns if c not in ID_COLUMNS and pd.api.types.is_float_dtype(frame[c])]
    other = [c for c in frame.columns if c not in keys and c not in metrics and c != "step"]
    g = frame.groupby(["strategy", "run"], sort=False)
    last = g[metrics].last().add_prefix("final_")
    mean = g[metrics].mean().add_prefix("mean_")
    first = g[[c for c in keys + other if c not in ("strategy", "run")]].first()
    return pd.concat([first, last, mean], axis=1).reset_index()


def _read_table(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return pd.read_csv(path)
        if suffix in (".parquet", ".pq") or path.is_dir():
            return pd.read_parquet(path)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise UserError(
            f"{path}: cannot read the table: {str(exc).splitlines()[0] if str(exc) else exc}"
        ) from None
    except Exception as exc:  # pyarrow raises its own types for broken files
        raise UserError(
            f"{path}: cannot read the table: {type(exc).__name__}: {str(exc).splitlines()[0]}"
        ) from None
    raise UserError(
        f"{path}: unknown format {suffix or '(no suffix)'!r}: expected a sweep directory, "
        "a .csv or a .parquet file"
    )


def check_metric(ds: Dataset, metric: str) -> pd.Series:
    """The numeric column ``metric`` of the dataset.

    Raises
    ------
    UserError
        Unknown or non-numeric column, or one with no finite value.
    """
    cols = list(ds.frame.columns)
    if metric not in cols:
        numeric = [
            c
            for c in cols
            if c not in ID_COLUMNS
            and c not in ds.factors
            and c not in ds.levers
            and pd.api.types.is_numeric_dtype(ds.frame[c])
        ]
        raise UserError(
            f"{ds.source}: --metric {metric!r} is not a column{_hint(metric, cols)}; "
            f"metrics: {', '.join(numeric[:30])}{' ...' if len(numeric) > 30 else ''}"
        )
    col = ds.frame[metric]
    if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        raise UserError(
            f"{ds.source}: --metric {metric!r} is not numeric (dtype {col.dtype}); "
            "expected a column of numbers"
        )
    if not np.isfinite(col.to_numpy(dtype=float)).any():
        raise UserError(f"{ds.source}: --metric {metric!r} has no finite value")
    return col.astype(float)


def check_factors(ds: Dataset, factors: list[str] | None, metric: str) -> list[str]:
    """The factors to analyse: the given names (checked) or the dataset's defaults.

    Bool columns count as 0/1 numbers. Raises ``UserError`` for an unknown
    or non-numeric factor, the metric named as a factor, or none at all.
    """
    cols = list(ds.frame.columns)
    names = factors if factors else [f for f in ds.factors if f != metric]
    if not factors and ds.kind == "table":  # by default, the numeric columns only
        names = [f for f in names if pd.api.types.is_numeric_dtype(ds.frame[f])]
    if not names:
        raise UserError(f"{ds.source}: no factors to analyse; name them with --factors a,b,...")
    for f in names:
        if f not in cols:
            raise UserError(
                f"{ds.source}: --factors: {f!r} is not a column{_hint(f, cols)}; "
                f"columns: {', '.join(cols[:30])}"
            )
        if f == metric:
            raise UserError(f"{ds.source}: --factors: {f!r} is the metric itself; it cannot also be a factor")
        col = ds.frame[f]
        if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
            raise UserError(
                f"{ds.source}: --factors: {f!r} is not numeric (dtype {col.dtype}, e.g. "
                f"{col.iloc[0]!r}); PRIM and CART here need numeric factors"
            )
    if len(set(names)) != len(names):
        raise UserError(f"{ds.source}: --factors: names must be distinct (got {', '.join(names)})")
    return list(names)
