"""Sweep results on disk: atomic chunk files, the resume index, the manifest.

Layout of a results directory ``DIR``::

    DIR/_manifest.json        experiment, resolved design, seeds, versions, sessions
    DIR/part-000000.parquet   one file per finished chunk of runs
    DIR/part-000001.parquet
    ...
    DIR/_report/              figures and summary written by `civsim report`
    DIR/_sensitivity/         indices written by `civsim sensitivity`

Parquet readers skip names starting with ``_`` or ``.``, so
``pandas.read_parquet(DIR)`` reads exactly the results.

Each chunk is written to a hidden temporary file, flushed to disk and renamed
into place, so a killed sweep leaves either a whole chunk file or none. The
resume index is the set of chunk files present. The manifest holds a hash of
everything that determines the results (resolved parameters, design points,
replicates, steps, seed, outputs, chunking, engine); a directory made by a
different experiment is refused, never mixed in.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no locking
    fcntl = None  # type: ignore[assignment]

from civsim.errors import UserError

MANIFEST = "_manifest.json"
"""Manifest file name (leading underscore: ignored by Parquet readers)."""

LOCK = ".lock"
"""Lock file held while a sweep writes to the directory (released by the OS if the process dies)."""

JOURNAL = "_chunks.jsonl"
"""One JSON line per chunk written (rows, bytes, SHA-256), appended as each chunk lands."""

FORMAT = "civsim-sweep/1"
"""Version of the results layout."""

_PART = re.compile(r"^part-(\d{6})\.parquet$")


def part_name(chunk: int) -> str:
    """File name of chunk ``chunk``."""
    return f"part-{chunk:06d}.parquet"


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no spaces: the input of :func:`identity_hash`."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def identity_hash(identity: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of an experiment's identity."""
    return hashlib.sha256(canonical_json(identity).encode("ascii")).hexdigest()


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a hidden temporary file and a rename."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


MAX_MANIFEST_BYTES = 2**30
"""A manifest larger than this is refused (it records at most 10 million design points)."""

_MANIFEST_SHAPE: tuple[tuple[str, type | tuple[type, ...]], ...] = (
    ("hash", str),
    ("n_runs", int),
    ("n_chunks", int),
    ("chunks", list),
    ("experiment", dict),
    ("experiment.name", str),
    ("identity", dict),
    ("identity.factors", list),
    ("identity.output", dict),
    ("identity.output.metrics", list),
    ("identity.output.keep", str),
    ("identity.steps", int),
    ("identity.seed", int),
    ("identity.replicates", int),
    ("identity.design", dict),
    ("design", dict),
    ("design.kind", str),
    ("design.n_points", int),
)


def check_manifest(manifest: Any, path: Path | str) -> None:
    """Refuse a manifest without the keys and types a sweep writes (one line naming the key).

    Raises
    ------
    UserError
        ``"DIR/_manifest.json: malformed manifest: <key> ..."``.
    """

    def bad(what: str) -> UserError:
        return UserError(f"{path}: malformed manifest: {what}; the sweep directory is damaged")

    if not isinstance(manifest, dict):
        raise bad(f"expected a JSON object, found {type(manifest).__name__}")
    for dotted, kind in _MANIFEST_SHAPE:
        node: Any = manifest
        for part in dotted.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            raise bad(f"{dotted} is missing")
        if not isinstance(node, kind) or (kind is int and isinstance(node, bool)):
            raise bad(f"{dotted} = {str(node)[:40]!r} has the wrong type")
    chunks = manifest["chunks"]
    if len(chunks) != manifest["n_chunks"] or not all(
        isinstance(c, list) and all(isinstance(r, int) and not isinstance(r, bool) for r in c) for c in chunks
    ):
        raise bad("chunks does not list n_chunks lists of run numbers")
    for i, f in enumerate(manifest["identity"]["factors"]):
        if not isinstance(f, dict) or not isinstance(f.get("name"), str):
            raise bad(f"identity.factors[{i}] has no name")


def describe_changes(old: dict[str, Any], new: dict[str, Any]) -> str:
    """Say in a few words which parts of two experiment identities differ."""
    parts = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if key == "model":
            parts.append("the model's code changed since these results were made")
        elif isinstance(a, dict) and isinstance(b, dict) and key == "base":
            names = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            shown = ", ".join(f"{k} {a.get(k)!r} -> {b.get(k)!r}" for k in names[:3])
            more = f" and {len(names) - 3} more" if len(names) > 3 else ""
            parts.append(f"parameters {shown}{more}")
        elif isinstance(a, (int, float, str)) and isinstance(b, (int, float, str)):
            parts.append(f"{key} {a!r} -> {b!r}")
        else:
            parts.append(f"{key} changed")
    return "; ".join(parts) or "unknown differences"


class ResultStore:
    """A results directory: manifest, chunk files and resume index.

    Parameters
    ----------
    root : pathlib.Path
        The directory (created by :meth:`prepare` when missing).
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    @property
    def manifest_path(self) -> Path:
        """Path of the manifest."""
        return self.root / MANIFEST

    def read_manifest(self) -> dict[str, Any]:
        """Load the manifest.

        Raises
        ------
        UserError
            When the directory holds no (readable) manifest.
        """
        try:
            st = os.stat(self.manifest_path)
            if not stat.S_ISREG(st.st_mode):
                raise UserError(f"{self.manifest_path}: not a regular file; the sweep directory is damaged")
            if st.st_size > MAX_MANIFEST_BYTES:
                raise UserError(
                    f"{self.manifest_path}: {st.st_size:,} bytes, more than a manifest may have "
                    f"({MAX_MANIFEST_BYTES:,}); the sweep directory is damaged"
                )
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise UserError(
                f"{self.root}: not a civsim sweep directory (no {MANIFEST}); "
                f"run `civsim sweep EXPERIMENT --out {self.root}`"
            ) from None
        except (OSError, ValueError, RecursionError) as exc:
            detail = exc.strerror if isinstance(exc, OSError) else str(exc).splitlines()[0][:120]
            raise UserError(f"{self.manifest_path}: cannot read the manifest ({detail})") from None
        check_manifest(data, self.manifest_path)
        return data

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        """Write the manifest atomically."""
        text = json.dumps(manifest, indent=1, sort_keys=False, allow_nan=False) + "\n"
        atomic_write_bytes(self.manifest_path, text.encode("utf-8"))

    def check_target(self) -> None:
        """Refuse a file, or a non-empty directory that is not a sweep directory.

        Raises
        ------
        UserError
            Naming the directory and what to do instead.
        """
        root = self.root
        if root.exists() and not root.is_dir():
            raise UserError(f"--out {root}: is a file, not a directory; choose another --out")
        if (
            root.is_dir()
            and not self.manifest_path.exists()
            and any(not p.name.startswith(".") for p in root.iterdir())
        ):
            raise UserError(
                f"--out {root}: exists and is not a civsim sweep directory (no {MANIFEST}); "
                "choose a new or empty directory"
            )

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold an exclusive lock on the directory while a sweep writes to it.

        The lock is an ``flock`` on ``DIR/.lock``: the operating system drops
        it when the holder exits, even on ``kill -9``.

        Raises
        ------
        UserError
            If ``root`` is a file, or another process holds the lock.
        """
        self.check_target()
        self.root.mkdir(parents=True, exist_ok=True)
        if fcntl is None:  # pragma: no cover
            yield
            return
        lock_path = self.root / LOCK
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(lock_path, flags, 0o644)
        except OSError as exc:  # ELOOP: a symlink planted as DIR/.lock is never followed
            raise UserError(
                f"--out {self.root}: cannot use the lock file {lock_path} ({exc.strerror or exc}); "
                "it must be a regular file: remove it"
            ) from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise UserError(f"--out {self.root}: {lock_path} is not a regular file; remove it")
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
                raise UserError(
                    f"--out {self.root}: another sweep (pid {holder}) is writing here; "
                    "wait for it to finish, or stop it first"
                ) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            yield
        finally:
            os.close(fd)

    def prepare(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """Create the directory, or check an existing one holds the same experiment.

        Parameters
        ----------
        manifest : dict
            The new manifest; its ``hash`` and ``identity`` are compared with
            the stored ones.

        Returns
        -------
        dict
            The manifest to keep updating: the stored one when resuming (its
            ``sessions`` preserved), else ``manifest``, written to disk.

        Raises
        ------
        UserError
            If ``root`` is a file, a non-empty directory without a manifest,
            or holds results of a different experiment.
        """
        root = self.root
        self.check_target()
        if self.manifest_path.exists():
            old = self.read_manifest()
            if old.get("hash") != manifest["hash"]:
                what = describe_changes(old.get("identity", {}), manifest["identity"])
                name = old.get("experiment", {}).get("path", "?")
                raise UserError(
                    f"--out {root}: holds results of a different experiment ({name}; {what}); "
                    "refusing to mix them: use a new --out directory, or delete this one to start over"
                )
            self.remove_temporaries()
            old["sessions"] = old.get("sessions", [])
            return old
        root.mkdir(parents=True, exist_ok=True)
        self.remove_temporaries()
        self.write_manifest(manifest)
        return manifest

    def remove_temporaries(self) -> None:
        """Delete temporary files left by an interrupted write."""
        if self.root.is_dir():
            for p in self.root.glob(".*.tmp-*"):
                with contextlib.suppress(OSError):
                    p.unlink()

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

    # ------------------------------------------------------------------
    # Chunk records and verification

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


def file_digest(path: Path) -> dict[str, Any]:
    """Size and SHA-256 of a file."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
            size += len(block)
    return {"bytes": size, "sha256": h.hexdigest()}
