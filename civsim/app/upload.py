"""Upload a scenario TOML: validated like ``civsim validate``, errors as one line.

The widget is ipyvuetify's ``FileInput`` (a real ``<input type=file>``, so a
user can click to choose a file, and a browser test can set one). Reading and
checking happen in :func:`parse_upload`, which turns every problem into a
:class:`civsim.errors.UserError` with the CLI's message.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import cast

import solara
from ipyvuetify.extra import FileInput

from civsim.errors import UserError
from civsim.scenario import Scenario, parse_scenario_text

MAX_BYTES = 256_000
"""Largest scenario upload read (a scenario file is a few hundred bytes)."""
MAX_NAME = 80
"""Longest file name shown (the client's name is only ever a label, never a path)."""

_read_lock = threading.Lock()
"""One upload read at a time per server: ipyvuetify's reader is not safe to run concurrently."""


def display_name(filename: str) -> str:
    """The client's file name as a label: last path part only, printable, at most :data:`MAX_NAME` characters.

    It is never used to open, create or resolve anything on the server.
    """
    base = re.split(r"[\\/]", filename or "")[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    if len(base) > MAX_NAME:
        base = base[: MAX_NAME - 3] + "..."
    return base or "uploaded.toml"


def parse_upload(filename: str, data: bytes) -> Scenario:
    """Validate an uploaded scenario file; raise UserError (one line) on any problem.

    The file may extend only a shipped preset, by name: ``extends`` naming
    anything else (a path, a missing preset) is refused with one message that
    does not depend on what exists on the server. Its size and TOML nesting
    are bounded before parsing (see :mod:`civsim.safeio`).
    """
    name = display_name(filename)
    if len(data) > MAX_BYTES:
        raise UserError(
            f"{name}: file is {len(data):,} bytes; a scenario file must be under {MAX_BYTES:,} bytes"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{name}: not a text file (expected UTF-8 TOML)") from None
    try:
        scenario = parse_scenario_text(text, name, presets_only=True)  # no server paths from a browser
    except UserError:
        raise
    except Exception as exc:  # anything unexpected still becomes one line, never a traceback
        raise UserError(f"{name}: cannot read scenario ({type(exc).__name__})") from None
    return scenario


def read_upload(info: dict, cancel: threading.Event | None = None) -> tuple[str, bytes] | None:
    """Read one chosen file from the browser, size-capped; None if a newer choice replaced it.

    ``info`` is an entry of ipyvuetify's ``FileInput.get_files()`` (``name``,
    ``size``, ``file_obj``). A file announced as larger than
    :data:`MAX_BYTES` is refused without reading it; reads are serialised
    (one at a time per server) and checked against the announced size, so an
    interrupted or superseded read never passes as a whole file.

    Raises
    ------
    UserError
        Too large, interrupted, or unreadable.
    """
    name = display_name(str(info.get("name", "")))
    size = info.get("size")
    if not isinstance(size, int) or size < 0:
        raise UserError(f"{name}: the browser did not say how large the file is; choose it again")
    if size > MAX_BYTES:
        raise UserError(f"{name}: file is {size:,} bytes; a scenario file must be under {MAX_BYTES:,} bytes")
    with _read_lock:
        if cancel is not None and cancel.is_set():
            return None
        try:
            data = info["file_obj"].read(size) if size else b""
        except Exception:  # e.g. the browser went away, or a newer file replaced this one mid-read
            if cancel is not None and cancel.is_set():
                return None
            raise UserError(f"{name}: the upload was interrupted; choose the file again") from None
    if cancel is not None and cancel.is_set():
        return None
    data = bytes(data or b"")
    if len(data) != size:
        raise UserError(
            f"{name}: the upload was interrupted ({len(data):,} of {size:,} bytes); choose the file again"
        )
    return info.get("name", ""), data


def one_line(exc: BaseException) -> str:
    """An exception as one line for the page."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


@solara.component
def TomlFileInput(on_file: Callable[[str, bytes], None], on_error: Callable[[str], None]):
    """A file chooser (``<input type=file>``) that hands the chosen file's name and bytes to ``on_file``.

    Same wiring as Solara's FileDrop: the widget must be this component's root
    for ``get_widget``, which only works in an effect; the bytes are read in a
    thread, as they stream from the browser.
    """
    file_info, set_file_info = solara.use_state(cast(list, []))
    wired, set_wired = solara.use_state(cast(list | None, None))
    widget = FileInput.element(  # type: ignore[attr-defined]
        multiple=False,
        accept=".toml,text/plain,application/toml",
        show_progress=False,
        on_file_info=set_file_info,
    )

    def wire_files():
        if not file_info:
            return
        real = cast(FileInput, solara.get_widget(widget))
        real.version += 1
        real.reset_stats()
        set_wired(real.get_files(timeout=20))

    solara.use_effect(wire_files, [file_info])

    def read_file(cancel: threading.Event):
        if not wired:
            return
        try:
            got = read_upload(wired[0], cancel)
        except UserError as exc:
            on_error(one_line(exc))
            return
        except Exception:  # never a traceback on the page
            on_error(
                f"{display_name(str(wired[0].get('name', '')))}: cannot read the upload; choose it again"
            )
            return
        if got is not None:
            on_file(*got)

    solara.use_thread(read_file, [wired], intrusive_cancel=False)
    return widget


@solara.component
def ScenarioUpload(
    on_scenario: Callable[[Scenario], None],
    label: str = "Upload a scenario (.toml)",
    key_prefix: str = "upload",
):
    """A file chooser that loads a scenario TOML; shows the result or one clear error line."""
    message, set_message = solara.use_state(cast(tuple[str, str] | None, None))

    def on_file(name: str, data: bytes):
        try:
            scenario = parse_upload(name, data)
        except UserError as exc:
            set_message(("error", one_line(exc)))
            return
        except Exception as exc:  # never a traceback
            set_message(("error", f"{display_name(name)}: cannot read the upload ({type(exc).__name__})"))
            return
        set_message(("ok", f"Loaded {display_name(name)}: {scenario.description or scenario.name}"))
        on_scenario(scenario)

    with solara.Column(gap="4px", classes=["civsim-upload-box"]):
        solara.Text(label, style={"font-weight": "bold"})
        with solara.Div(classes=["civsim-upload", f"civsim-{key_prefix}"]):
            TomlFileInput(on_file, lambda text: set_message(("error", text)))
        if message is not None:
            kind, text = message
            if kind == "error":
                solara.Error(text, classes=["civsim-upload-error"])
            else:
                solara.Success(text, classes=["civsim-upload-ok"])
