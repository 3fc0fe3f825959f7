"""Upload a scenario TOML: validated like ``civsim validate``, errors as one line.

The widget is ipyvuetify's ``FileInput`` (a real ``<input type=file>``, so a
user can click to choose a file, and a browser test can set one). Reading and
checking happen in :func:`parse_upload`, which turns every problem into a
:class:`civsim.errors.UserError` with the CLI's message.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import cast

import solara
from ipyvuetify.extra import FileInput

from civsim.errors import UserError
from civsim.scenario import Scenario, parse_scenario_text

MAX_BYTES = 1_000_000


def parse_upload(filename: str, data: bytes) -> Scenario:
    """Validate an uploaded scenario file; raise UserError (one line) on any problem."""
    name = filename or "uploaded.toml"
    if len(data) > MAX_BYTES:
        raise UserError(
            f"{name}: file is {len(data):,} bytes; a scenario file must be under {MAX_BYTES:,} bytes"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{name}: not a text file (expected UTF-8 TOML)") from None
    try:
        scenario = parse_scenario_text(text, name, files=False)  # no server paths from a browser
    except UserError:
        raise
    except Exception as exc:  # anything unexpected still becomes one line, never a traceback
        raise UserError(f"{name}: cannot read scenario ({type(exc).__name__}: {exc})") from None
    return scenario


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
        info = wired[0]
        try:
            data = info["file_obj"].read()
        except Exception as exc:  # e.g. the browser went away mid-upload
            on_error(f"{info.get('name', 'file')}: cannot read the upload ({one_line(exc)})")
            return
        on_file(info.get("name", ""), data)

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
            set_message(("error", f"{name or 'file'}: cannot read the upload ({one_line(exc)})"))
            return
        set_message(("ok", f"Loaded {name}: {scenario.description or scenario.name}"))
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
