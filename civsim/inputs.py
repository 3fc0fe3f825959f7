"""Per-citizen input files: thresholds and edge lists (CSV), read and checked.

Two parameters of type ``"path"`` name files: ``threshold_file`` (used when
``threshold_distribution = 'file'``) and ``edge_file`` (used when
``network = 'file'``). Scenario files resolve relative names against their own
folder, ``--set`` against the working directory (:func:`absolute`);
:func:`check_files` validates a resolved parameter set before any run starts,
and :func:`civsim.world.build_world` reads the same files through the same
functions (parsed once per file version and cached).

Formats (a header row, comma-separated, blank lines ignored, other columns
ignored):

- threshold file: column ``threshold``; one row per citizen in citizen order
  (row i is citizen i); each value a number in [0, 1], the share of a
  citizen's ties that must be engaged before they engage;
- edge file: columns ``source`` and ``target``; 0-based citizen indices in
  [0, n_citizens - 1]. Ties are undirected: self-ties are dropped and repeats
  (in either direction) count once.

Every problem is a :class:`~civsim.errors.UserError` of one line naming the
key, the value (the file) and what is allowed.
"""

from __future__ import annotations

import csv
import math
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from civsim.errors import UserError
from civsim.params import SCHEMA

THRESHOLD_COLUMN = "threshold"
EDGE_COLUMNS: tuple[str, str] = ("source", "target")
_THRESHOLD_FORMAT = (
    "a CSV file with a header 'threshold' and one number in [0, 1] per citizen, in citizen order"
)
_EDGE_FORMAT = "a CSV edge list with a header 'source,target' and 0-based citizen indices"


def path_keys() -> tuple[str, ...]:
    """Names of the schema's file parameters."""
    return tuple(name for name, p in SCHEMA.items() if p.type == "path")


def absolute(value: str, base: str | Path) -> str:
    """``value`` as an absolute path, relative names taken from folder ``base`` ('' stays '')."""
    if not value:
        return value
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = Path(base) / path
    return str(Path(os.path.normpath(path.absolute())))


def used_files(params: dict[str, Any]) -> dict[str, str]:
    """The file parameters this resolved parameter set actually reads, by key."""
    out = {}
    if params["threshold_distribution"] == "file":
        out["threshold_file"] = params["threshold_file"]
    if params["network"] == "file":
        out["edge_file"] = params["edge_file"]
    return out


def check_files(params: dict[str, Any]) -> None:
    """Read every file the resolved ``params`` use and check it against ``n_citizens``.

    Raises
    ------
    UserError
        One line naming the key, the file and what is allowed.
    """
    n = params["n_citizens"]
    for key, value in used_files(params).items():
        if key == "threshold_file":
            read_thresholds(value, n)
        else:
            read_edges(value, n)


def read_thresholds(value: str, n_citizens: int, key: str = "threshold_file") -> np.ndarray:
    """Thresholds from a CSV file, one per citizen in citizen order.

    Parameters
    ----------
    value : str
        The file (as resolved: absolute, or relative to the working directory).
    n_citizens : int
        Expected number of rows.
    key : str
        Parameter name, for messages.

    Returns
    -------
    numpy.ndarray
        (n_citizens,) float64, a fresh copy.

    Raises
    ------
    UserError
        Missing or unreadable file, no ``threshold`` column, a value that is not
        a number in [0, 1], or a row count other than ``n_citizens``.
    """
    header, rows, lines = _table(value, key, (THRESHOLD_COLUMN,), _THRESHOLD_FORMAT)
    col = header.index(THRESHOLD_COLUMN)
    out = np.empty(len(rows))
    for r, (row, line) in enumerate(zip(rows, lines, strict=True)):
        text = row[col].strip()
        try:
            x = float(text)
        except ValueError:
            x = math.nan
        if not (math.isfinite(x) and 0.0 <= x <= 1.0):
            problem = f"line {line}: threshold = {text!r} is not a number in [0, 1]"
            raise _bad(key, value, problem, _THRESHOLD_FORMAT)
        out[r] = x
    if out.size != n_citizens:
        raise _bad(
            key,
            value,
            f"{out.size} rows, expected {n_citizens} (one per citizen: n_citizens = {n_citizens})",
            _THRESHOLD_FORMAT,
        )
    return out


def read_edges(value: str, n_citizens: int, key: str = "edge_file") -> tuple[np.ndarray, np.ndarray]:
    """An undirected edge list from a CSV file.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``(i, j)`` int64 arrays with ``i < j``, each tie once, sorted by
        ``(i, j)``; self-ties dropped, repeats in either direction merged.

    Raises
    ------
    UserError
        Missing or unreadable file, missing ``source``/``target`` columns, or an
        index that is not an integer in [0, n_citizens - 1].
    """
    header, rows, lines = _table(value, key, EDGE_COLUMNS, _EDGE_FORMAT)
    cols = [header.index(c) for c in EDGE_COLUMNS]
    ends = np.empty((len(rows), 2), dtype=np.int64)
    for r, (row, line) in enumerate(zip(rows, lines, strict=True)):
        for end, (c, name) in enumerate(zip(cols, EDGE_COLUMNS, strict=True)):
            text = row[c].strip()
            try:
                k = int(text, 10)
            except ValueError:
                k = -1
            if not 0 <= k < n_citizens:
                raise _bad(
                    key,
                    value,
                    f"line {line}: {name} = {text!r} is not a citizen index "
                    f"(an integer from 0 to {n_citizens - 1} for n_citizens = {n_citizens})",
                    _EDGE_FORMAT,
                )
            ends[r, end] = k
    i, j = np.minimum(ends[:, 0], ends[:, 1]), np.maximum(ends[:, 0], ends[:, 1])
    keep = i != j
    pairs = np.unique(np.stack([i[keep], j[keep]], axis=1), axis=0).reshape(-1, 2)
    return pairs[:, 0].copy(), pairs[:, 1].copy()


def _bad(key: str, value: str, problem: str, allowed: str) -> UserError:
    return UserError(f"{key} = {value!r}: {problem}; expected {allowed}")


def _table(
    value: str, key: str, required: tuple[str, ...], allowed: str
) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, rows and their line numbers of a CSV file (cached per file version)."""
    if not value:
        raise _bad(key, value, "no file given", allowed)
    try:
        stat = os.stat(value)
    except FileNotFoundError:
        raise _bad(key, value, "file not found", allowed) from None
    except OSError as exc:
        raise _bad(key, value, f"cannot read file ({exc.strerror})", allowed) from None
    if not os.path.isfile(value):
        raise _bad(key, value, "not a file", allowed)
    result = _parse(value, stat.st_mtime_ns, stat.st_size)
    if isinstance(result, str):
        raise _bad(key, value, result, allowed)
    header, rows, lines = result
    missing = [c for c in required if c not in header]
    if missing:
        shown = ",".join(header) if header else "(empty file)"
        raise _bad(key, value, f"header {shown!r} lacks column {missing[0]!r}", allowed)
    return header, rows, lines


@lru_cache(maxsize=16)
def _parse(path: str, mtime_ns: int, size: int) -> tuple[list[str], list[list[str]], list[int]] | str:
    """Parse a CSV file; a problem is returned as a one-line string (so it is cached too)."""
    del mtime_ns, size  # part of the cache key only: a changed file is read again
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            records = list(csv.reader(fh))
    except UnicodeDecodeError:
        return "not a text file (expected UTF-8 CSV)"
    except (OSError, csv.Error) as exc:
        return f"cannot read file ({exc})"
    header: list[str] = []
    rows: list[list[str]] = []
    lines: list[int] = []
    for number, record in enumerate(records, start=1):
        if not any(field.strip() for field in record):
            continue
        if not header:
            header = [field.strip() for field in record]
            continue
        if len(record) != len(header):
            return f"line {number}: {len(record)} fields, expected {len(header)} (as in the header)"
        rows.append(record)
        lines.append(number)
    return header, rows, lines
