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

The parts: :mod:`~civsim.experiments.chunk_files` (chunk files, journal, checks),
:mod:`~civsim.experiments.sweep_manifest` (identity hash, manifest shape) and
:mod:`~civsim.experiments.atomic_files` (crash-safe writes); this module holds the
directory, its manifest and its lock, and re-exports the rest.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no locking
    fcntl = None  # type: ignore[assignment]

from civsim.errors import UserError
from civsim.experiments.atomic_files import atomic_write_bytes, file_digest
from civsim.experiments.chunk_files import JOURNAL, ChunkFiles, part_name
from civsim.experiments.sweep_manifest import (
    MAX_MANIFEST_BYTES,
    canonical_json,
    check_manifest,
    describe_changes,
    identity_hash,
)

MANIFEST = "_manifest.json"
"""Manifest file name (leading underscore: ignored by Parquet readers)."""


LOCK = ".lock"
"""Lock file held while a sweep writes to the directory (released by the OS if the process dies)."""


FORMAT = "civsim-sweep/1"
"""Version of the results layout."""


class ResultStore(ChunkFiles):
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


__all__ = [
    "FORMAT",
    "JOURNAL",
    "LOCK",
    "MANIFEST",
    "MAX_MANIFEST_BYTES",
    "ResultStore",
    "atomic_write_bytes",
    "canonical_json",
    "check_manifest",
    "describe_changes",
    "file_digest",
    "identity_hash",
    "part_name",
]
