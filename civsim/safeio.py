"""Reading input files that may be hostile: size-capped, regular files only, bounded TOML.

Scenario and experiment files come from users, and in the web app from any
browser. Three things could hurt before a single value is validated:

- a huge file (or ``/dev/zero``) read whole into memory;
- a FIFO or device that blocks the reader forever;
- TOML whose nesting makes the parser recurse or allocate without bound
  (``tomllib`` recurses once per nested array or inline table, and a long
  dotted key ``a.a.a. ...`` costs memory quadratic in its length).

:func:`read_text` opens a path without blocking, refuses anything but a
regular file and reads at most :data:`MAX_TOML_BYTES` (+1, to notice a larger
file). :func:`loads` checks size, nesting depth and dotted-key length with a
linear scan of the text *before* handing it to ``tomllib``. Every refusal is
one :class:`~civsim.errors.UserError` line naming the file.
"""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path
from typing import Any

from civsim.errors import UserError

MAX_TOML_BYTES = 1_000_000
"""Largest scenario or experiment file read (bytes)."""
MAX_NESTING = 32
"""Deepest nesting of arrays and inline tables allowed in a TOML file."""
MAX_KEY_PARTS = 32
"""Most parts in one dotted key (``a.b.c`` has 3) or table header."""


def describe_kind(mode: int) -> str:
    """A few words for what a non-regular file is (for error messages)."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def read_text(path: Path | str, shown: str | None = None, max_bytes: int = MAX_TOML_BYTES) -> str:
    """Read a UTF-8 text file of at most ``max_bytes`` bytes.

    Parameters
    ----------
    path : path
        The file.
    shown : str, optional
        How to name the file in messages (default: ``path``).
    max_bytes : int
        Size cap; a larger file is refused without being read whole.

    Raises
    ------
    UserError
        Missing file, a directory, FIFO, socket or device, a file over the
        cap, unreadable or not UTF-8.
    """
    name = shown if shown is not None else str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise UserError(f"{name}: file not found") from None
    except IsADirectoryError:
        raise UserError(f"{name}: is a directory, not a file") from None
    except OSError as exc:
        raise UserError(f"{name}: cannot open the file ({exc.strerror or exc})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UserError(f"{name}: is {describe_kind(st.st_mode)}, not a regular file")
        if st.st_size > max_bytes:
            raise UserError(f"{name}: file is {st.st_size:,} bytes; at most {max_bytes:,} are read")
        chunks = []
        total = 0
        while total <= max_bytes:
            block = os.read(fd, min(1 << 16, max_bytes + 1 - total))
            if not block:
                break
            chunks.append(block)
            total += len(block)
        if total > max_bytes:  # grew while we read
            raise UserError(f"{name}: file is over {max_bytes:,} bytes; at most {max_bytes:,} are read")
    except OSError as exc:
        raise UserError(f"{name}: cannot read the file ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{name}: not a text file (expected UTF-8 TOML)") from None


def check_toml_shape(text: str, source: str) -> None:
    """Refuse TOML text that is too large, too deeply nested or has too long a dotted key.

    A linear scan that skips strings and comments: it counts open ``[``/``{``
    and the dots of each key (outside strings), so it may over-count a little
    (a float ``1.5`` counts one dot) but never under-counts.

    Raises
    ------
    UserError
        Naming the file, the line and the limit.
    """
    if len(text) > MAX_TOML_BYTES:
        raise UserError(
            f"{source}: {len(text):,} characters; a TOML file may have at most {MAX_TOML_BYTES:,}"
        )
    depth = 0
    dots = 0
    line = 1
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            dots = 0
        elif c == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        elif c in "\"'":
            triple = text.startswith(c * 3, i)
            if triple:
                j = i + 3
                while j < n and not text.startswith(c * 3, j):
                    j += 2 if (c == '"' and text[j] == "\\") else 1
                end = min(n, j + 3)
                while end < n and text[end] == c:  # up to two quotes may close the string's content
                    end += 1
            else:
                j = i + 1
                while j < n and text[j] != c and text[j] != "\n":
                    j += 2 if (c == '"' and text[j] == "\\") else 1
                end = j + 1
            line += text.count("\n", i, min(end, n))
            i = end
            continue
        elif c in "[{":
            depth += 1
            dots = 0
            if depth > MAX_NESTING:
                raise UserError(
                    f"{source}: line {line}: arrays or tables nested more than {MAX_NESTING} deep "
                    "are not allowed"
                )
        elif c in "]}":
            depth = max(0, depth - 1)
            dots = 0
        elif c in ",=":
            dots = 0
        elif c == ".":
            dots += 1
            if dots >= MAX_KEY_PARTS:
                raise UserError(
                    f"{source}: line {line}: a dotted key with more than {MAX_KEY_PARTS} parts is not allowed"
                )
        i += 1


def loads(text: str, source: str, invalid: str = "invalid TOML") -> dict[str, Any]:
    """Parse TOML ``text`` after :func:`check_toml_shape`; every failure is one line.

    Raises
    ------
    UserError
        ``"{source}: invalid TOML: ..."`` or a size/depth refusal.
    """
    check_toml_shape(text, source)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{source}: {invalid}: {exc}") from None
    except (RecursionError, MemoryError):  # belt and braces: the shape check should prevent these
        raise UserError(f"{source}: TOML too deeply nested or too large to read") from None


def load_file(
    path: Path | str, shown: str | None = None, invalid: str = "invalid TOML"
) -> tuple[str, dict[str, Any]]:
    """Read and parse a TOML file with every bound above; return ``(text, data)``."""
    name = shown if shown is not None else str(path)
    text = read_text(path, name)
    return text, loads(text, name, invalid)
