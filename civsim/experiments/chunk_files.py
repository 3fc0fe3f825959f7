"""The chunk files of a results directory: names, atomic writes, the journal, verification.

Each chunk is written to a hidden temporary file, flushed and renamed into place; its
rows, size and SHA-256 are appended to the journal, so a resumed sweep can tell a sound
chunk file from a damaged one (see :mod:`civsim.experiments.storage`).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from civsim.experiments.atomic_files import _fsync_dir, file_digest

JOURNAL = "_chunks.jsonl"
"""One JSON line per chunk written (rows, bytes, SHA-256), appended as each chunk lands."""

_PART = re.compile(r"^part-(\d{6})\.parquet$")


def part_name(chunk: int) -> str:
    """File name of chunk ``chunk``."""
    return f"part-{chunk:06d}.parquet"


class ChunkFiles:
    """The chunk files under ``root``: written, listed, recorded and verified (a part of
    :class:`~civsim.experiments.storage.ResultStore`)."""

    root: Path

    def done_chunks(self) -> set[int]:
        """Chunk ids whose files are present: the resume index."""
        if not self.root.is_dir():
            return set()
        out = set()
        for p in self.root.iterdir():
            m = _PART.match(p.name)
            if m:
                out.add(int(m.group(1)))
        return out

    def write_chunk(self, chunk: int, table: pa.Table) -> Path:
        """Write one chunk's table atomically; return its path."""
        final = self.root / part_name(chunk)
        tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}")
        pq.write_table(table, tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, final)
        _fsync_dir(self.root)
        return final

    def part_paths(self) -> list[Path]:
        """Chunk files, in chunk order."""
        return sorted(p for p in self.root.iterdir() if _PART.match(p.name))

    @property
    def journal_path(self) -> Path:
        """Append-only record of each chunk written: rows, bytes and SHA-256."""
        return self.root / JOURNAL

    def record_chunk(self, chunk: int, path: Path, rows: int) -> dict[str, Any]:
        """Append a chunk's rows, size and hash to the journal (flushed to disk); return the record."""
        rec = {"chunk": int(chunk), "rows": int(rows), **file_digest(path)}
        line = (json.dumps(rec, sort_keys=True) + "\n").encode("ascii")
        fd = os.open(
            self.journal_path,
            os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0),
            0o644,
        )
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        return rec

    def chunk_records(self, manifest: dict[str, Any] | None = None) -> dict[int, dict[str, Any]]:
        """What was recorded when each chunk was written: the manifest's ``chunk_files``, then the journal.

        A damaged journal line is skipped (its chunk is then checked by
        footer and row count only).
        """
        out: dict[int, dict[str, Any]] = {}
        files = (manifest or {}).get("chunk_files")
        if isinstance(files, dict):
            for key, rec in files.items():
                if isinstance(rec, dict) and str(key).isdigit():
                    out[int(key)] = rec
        with contextlib.suppress(OSError):
            with open(self.journal_path, "rb") as fh:
                for raw in fh.read(64 * 2**20).splitlines():
                    try:
                        rec = json.loads(raw)
                        out[int(rec["chunk"])] = rec
                    except (ValueError, KeyError, TypeError):
                        continue
        return out

    def verify_chunk(
        self, chunk: int, expected_rows: int | None, record: dict[str, Any] | None
    ) -> str | None:
        """Check one chunk file; None when sound, else why not (a few words).

        Checks the Parquet footer can be read, the row count is the one the
        plan expects (and the one recorded), and the file's size and SHA-256
        are those recorded when it was written.
        """
        path = self.root / part_name(chunk)
        try:
            st = os.stat(path, follow_symlinks=False)
        except OSError as exc:
            return f"cannot read it ({exc.strerror or exc})"
        if not stat.S_ISREG(st.st_mode):
            return "not a regular file"
        if st.st_size == 0:
            return "empty file"
        if record is not None and "bytes" in record and record.get("bytes") != st.st_size:
            return f"{st.st_size:,} bytes, {record.get('bytes'):,} were written"
        try:
            rows = pq.ParquetFile(path).metadata.num_rows
        except Exception as exc:  # pyarrow raises several types for a damaged file
            return f"not a readable Parquet file ({type(exc).__name__})"
        if expected_rows is not None and rows != expected_rows:
            return f"{rows} rows, {expected_rows} expected"
        if record is not None:
            if record.get("rows") not in (None, rows):
                return f"{rows} rows, {record.get('rows')} were written"
            if "sha256" in record and file_digest(path)["sha256"] != record["sha256"]:
                return "content changed since it was written (SHA-256 differs)"
        return None

    def verify_chunks(
        self, expected_rows: dict[int, int], manifest: dict[str, Any] | None = None
    ) -> tuple[set[int], dict[int, str]]:
        """Sound and damaged chunk files among those present.

        Returns
        -------
        good : set of int
            Chunks whose files pass :meth:`verify_chunk`.
        bad : dict
            Chunk id to the reason it failed.
        """
        records = self.chunk_records(manifest)
        good: set[int] = set()
        bad: dict[int, str] = {}
        for c in sorted(self.done_chunks()):
            if c not in expected_rows:
                continue  # a file the plan does not know: ignored
            why = self.verify_chunk(c, expected_rows[c], records.get(c))
            if why is None:
                good.add(c)
            else:
                bad[c] = why
        return good, bad

    def discard_chunk(self, chunk: int) -> None:
        """Move a damaged chunk file aside (``.part-NNNNNN.parquet.damaged``) so it is redone."""
        path = self.root / part_name(chunk)
        with contextlib.suppress(OSError):
            os.replace(path, self.root / f".{path.name}.damaged")
