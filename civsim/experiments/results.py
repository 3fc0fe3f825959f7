"""Reading a finished sweep back: the manifest, the rows, per-run outputs.

``pandas.read_parquet(DIR)`` is all a user needs; these helpers add the
checks and reshaping the sensitivity analysis and the report share.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from civsim.errors import UserError
from civsim.experiments.storage import ResultStore, part_name

ID_COLUMNS: tuple[str, ...] = ("run", "point", "replicate")
"""Columns naming a run, first in every results row."""


def load_results(
    directory: Path | str, *, require_complete: bool = True
) -> tuple[dict[str, Any], pd.DataFrame]:
    """The manifest and all rows of a results directory, sorted by run (and step).

    Raises
    ------
    UserError
        If ``directory`` is not a sweep directory, or (with
        ``require_complete``) some chunks are missing.
    """
    store = ResultStore(directory)
    if not store.root.is_dir():
        raise UserError(
            f"{directory}: no such results directory; run `civsim sweep EXPERIMENT --out {directory}` first"
        )
    manifest = store.read_manifest()
    n = int(manifest["n_chunks"])
    good, bad = store.verify_chunks(expected_rows(manifest), manifest)
    path = manifest.get("experiment", {}).get("path", "EXPERIMENT")
    if bad:
        c = min(bad)
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise UserError(
            f"{store.root / part_name(c)}: damaged chunk: {bad[c]}{more}; "
            f"rerun `civsim sweep {path} --out {directory}` to redo it"
        )
    have = len(good)
    if require_complete and have < n:
        raise UserError(
            f"{directory}: the sweep is unfinished ({have} of {n} chunks); "
            f"finish it with `civsim sweep {path} --out {directory}`"
        )
    if have == 0:
        return manifest, pd.DataFrame(columns=list(ID_COLUMNS))
    try:
        frame = pd.read_parquet(store.root)
    except Exception as exc:  # pyarrow raises several types for unreadable or mismatched files
        raise UserError(
            f"{directory}: cannot read the results ({type(exc).__name__}: {str(exc).splitlines()[0][:160]})"
        ) from None
    missing = [c for c in ID_COLUMNS if c not in frame.columns]
    if missing:
        raise UserError(
            f"{directory}: the results lack the column(s) {', '.join(missing)}; the data is damaged"
        )
    order = ["run", "step"] if "step" in frame.columns else ["run"]
    return manifest, frame.sort_values(order, kind="stable").reset_index(drop=True)


def expected_rows(manifest: dict[str, Any]) -> dict[int, int]:
    """Rows of each chunk file, from a (checked) manifest: runs x recorded steps per run."""
    ident = manifest["identity"]
    out = ident["output"]
    if out.get("keep") == "series":
        steps, every = int(ident["steps"]), max(1, int(out.get("every", 1)))
        per = steps // every + 1 + (1 if steps % every else 0)
    else:
        per = 1
    return {c: len(runs) * per for c, runs in enumerate(manifest["chunks"])}


def factor_names(manifest: dict[str, Any]) -> list[str]:
    """The sweep's factor names, in file order."""
    return [f["name"] for f in manifest["identity"]["factors"]]


def per_run_outputs(manifest: dict[str, Any], frame: pd.DataFrame) -> pd.DataFrame:
    """One row per run: ids, factor values and the run's outputs.

    Summary sweeps are returned as stored. For series sweeps each metric
    ``m`` gives ``final_<m>`` (value at the last recorded step) and
    ``mean_<m>`` (mean over recorded steps).
    """
    if "step" not in frame.columns:
        return frame
    keys = [*ID_COLUMNS, *factor_names(manifest)]
    metrics = [c for c in frame.columns if c not in keys and c != "step"]
    g = frame.groupby("run", sort=True)
    last = g[metrics].last().add_prefix("final_")
    mean = g[metrics].mean().add_prefix("mean_")
    ids = g[keys[1:]].first()
    out = pd.concat([ids, last, mean], axis=1).reset_index()
    cols = [*keys] + [c for pair in zip(last.columns, mean.columns, strict=True) for c in pair]
    return out[cols]


def output_columns(manifest: dict[str, Any], runs: pd.DataFrame) -> list[str]:
    """Output columns of a per-run frame (everything but ids and factors)."""
    skip = {*ID_COLUMNS, *factor_names(manifest)}
    return [c for c in runs.columns if c not in skip]


def outputs_by_point(manifest: dict[str, Any], frame: pd.DataFrame) -> pd.DataFrame:
    """Mean of every per-run output over the replicates of each point.

    Returns
    -------
    pandas.DataFrame
        Column ``point`` (0..n_points-1, in design order) and one column per
        output.
    """
    runs = per_run_outputs(manifest, frame)
    outs = output_columns(manifest, runs)
    means = runs.groupby("point", sort=True)[outs].mean().reset_index()
    n = int(manifest["design"]["n_points"])
    if len(means) != n:
        raise UserError(f"results hold {len(means)} of the design's {n} points; the sweep is unfinished")
    return means
