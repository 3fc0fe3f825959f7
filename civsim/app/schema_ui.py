"""Parameter controls generated from :data:`civsim.params.SCHEMA`.

One control per parameter (lists and file paths are skipped): a slider for numbers, an
integer slider for small integer ranges, a number box for huge integer
ranges (citizens, months), a switch for booleans and a select for choices.
They are grouped by strand, the six strands of the source texts first, and
each shows its help text and unit. Every value goes through
:func:`civsim.params.check`, so a bad value gets the CLI's one-line message.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import solara
from solara.alias import rv as v

from civsim import params as P

SIX_STRANDS: tuple[str, ...] = (
    "outcomes",
    "whole_systems",
    "coproduction",
    "resilience",
    "inclusion",
    "cooperation",
)
"""The six strands of civic partnership, in the order the source texts give them."""

INT_SLIDER_SPAN = 240
"""Integer parameters with a wider range than this get a number box, not a slider."""


def strand_order() -> list[str]:
    """Strand keys in display order: the six strands, then the structural groups."""
    six = [s for s in SIX_STRANDS if s in P.STRANDS]
    return six + [s for s in P.STRANDS if s not in six]


def grouped_params() -> dict[str, list[P.Param]]:
    """Editable parameters by strand, in display order (lists, paths, series and dates: not here)."""
    out: dict[str, list[P.Param]] = {s: [] for s in strand_order()}
    for p in P.SCHEMA.values():
        if p.type in ("list", "path", "series", "text"):
            continue
        out.setdefault(p.strand, []).append(p)
    return {k: ps for k, ps in out.items() if ps}


def control_kind(p: P.Param) -> str:
    """Which widget edits ``p``: 'slider', 'int_slider', 'int_box', 'switch' or 'select'."""
    if p.type == "bool":
        return "switch"
    if p.type == "choice":
        return "select"
    if p.type == "int":
        if p.min is not None and p.max is not None and p.max - p.min <= INT_SLIDER_SPAN:
            return "int_slider"
        return "int_box"
    return "slider"


def slider_step(p: P.Param) -> float:
    """A round step giving about 100 to 250 positions over the parameter's range."""
    lo = p.min if p.min is not None else 0.0
    hi = p.max if p.max is not None else 1.0
    span = hi - lo
    if span <= 0:
        return 0.01
    raw = span / 100.0
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag  # pragma: no cover


def pretty_name(name: str) -> str:
    """'coordination_cut_sensitivity' -> 'Coordination cut sensitivity'."""
    s = name.replace("_", " ")
    return s[:1].upper() + s[1:]


def format_value(p: P.Param, value: Any) -> str:
    """A parameter value as shown beside its control."""
    if p.type == "bool":
        return "on" if value else "off"
    if p.type == "float":
        step = slider_step(p)
        digits = max(0, -int(math.floor(math.log10(step)))) if step < 1 else 0
        return f"{float(value):.{digits}f}"
    return str(value)


def number(x: float | int | None) -> str:
    """A limit as people write it: 2,000,000 rather than 2e+06; 0.5 rather than 0.500000."""
    if x is None:
        return "no limit"
    if float(x).is_integer() and abs(x) >= 1:
        return f"{int(x):,}"
    return f"{float(x):g}"


def allowed_text(p: P.Param) -> str:
    """What ``p`` accepts, in words: 'a whole number from 10 to 2,000,000'."""
    if p.type in ("int", "float") and p.min is not None and p.max is not None:
        kind = "a whole number" if p.type == "int" else "a number"
        return f"{kind} from {number(p.min)} to {number(p.max)}"
    return p.allowed()


def check_value(name: str, value: Any, label: str | None = None) -> Any:
    """:func:`civsim.params.check`, with the page's wording when the value is refused.

    Raises
    ------
    civsim.params.ParamError
        "Citizens = 'abc' is not allowed: expected a whole number from 10 to 2,000,000".
    """
    try:
        return P.check(name, value)
    except P.ParamError:
        p = P.SCHEMA.get(name)
        if p is None:
            raise
        shown = value.strip() if isinstance(value, str) else value
        raise P.ParamError(
            f"{label or pretty_name(name)} = {shown!r} is not allowed: expected {allowed_text(p)}"
        ) from None


def parse_seed(text: str) -> int:
    """A seed typed by a person: a whole number from 0 to 2**63 - 1.

    Raises
    ------
    ValueError
        With one line saying what was typed and what is allowed.
    """
    raw = str(text).strip()
    if not raw.isdigit() or int(raw) > 2**63 - 1:
        raise ValueError(f"Seed {raw!r} is not allowed: expected a whole number from 0 to {2**63 - 1:,}")
    return int(raw)


def label_for(p: P.Param, value: Any) -> str:
    unit = f" {p.unit}" if p.unit and p.unit not in ("switch", "kind") else ""
    return f"{pretty_name(p.name)}: {format_value(p, value)}{unit}"


def snap(p: P.Param, value: float) -> Any:
    """Round a slider value to the step (floating-point noise from the browser)."""
    if p.type == "int":
        return int(round(value))
    step = slider_step(p)
    digits = max(0, -int(math.floor(math.log10(step)))) + 2
    return round(float(value), digits)


def changed_from_defaults(values: dict[str, Any]) -> dict[str, Any]:
    """The entries of ``values`` that differ from the schema defaults."""
    out = {}
    for k, val in values.items():
        p = P.SCHEMA.get(k)
        if p is None:
            continue
        default = p.default
        if isinstance(default, tuple):
            if tuple(val) != default:
                out[k] = val
        elif val != default:
            out[k] = val
    return out


@solara.component
def ParamControl(p: P.Param, value: Any, on_change: Callable[[str, Any], None], big: bool = False):
    """One parameter: its control, current value and help text."""
    error, set_error = solara.use_state(None)
    kind = control_kind(p)
    # The slider is not a controlled widget: a controlled one is reset to the value of the last
    # render at each browser event and then set again by the next render, and under quick arrow
    # presses those two messages drag it back (20 presses added 0.05, not 0.20). Its value is set
    # from here only when ``value`` comes from elsewhere (a preset, an upload, Reset), never when
    # it is a value the slider itself sent.
    sent = solara.use_ref([])
    syncing = solara.use_ref(False)

    def set_value(new):
        try:
            checked = check_value(p.name, snap(p, new) if kind in ("slider", "int_slider") else new)
        except (P.ParamError, ValueError) as e:
            set_error(str(e))
            return
        set_error(None)
        if checked != value:
            on_change(p.name, checked)

    with solara.Column(gap="0px", classes=["civsim-param", f"civsim-param-{p.name}"]):
        label = label_for(p, value)
        if kind == "switch":
            solara.Switch(label=label, value=bool(value), on_value=set_value)
        elif kind == "select":
            solara.Select(label=pretty_name(p.name), value=value, values=list(p.choices), on_value=set_value)
        elif kind == "int_box":
            # a text box validated by the schema (a slider over 2 million steps is useless)
            def on_text(text: str):
                set_value(text.strip())

            solara.InputText(label=label, value=str(value), on_value=on_text, continuous_update=False)
        else:
            step = 1 if kind == "int_slider" else slider_step(p)
            solara.Text(label, classes=["civsim-param-label"])

            def on_slide(new):
                if syncing.current:  # our own setting of the value below, not the user's
                    return
                sent.current = [*sent.current[-200:], snap(p, new)]
                set_value(new)

            slider = v.Slider(
                label=label,  # the slider's accessible name; shown above as text (CSS hides this copy)
                on_v_model=on_slide,
                min=p.min,
                max=p.max,
                step=step,
                dense=True,
                hide_details=True,
                thumb_label=False,
                class_="civsim-slider",
            )

            def sync():
                if value in sent.current:
                    return
                sent.current = []
                widget = solara.get_widget(slider)
                if widget.v_model != value:
                    syncing.current = True
                    try:
                        widget.v_model = value
                    finally:
                        syncing.current = False

            solara.use_effect(sync, [value])
        size = "1rem" if big else "0.8rem"
        solara.Text(p.help, style={"font-size": size, "color": "#555", "line-height": "1.2"})
        if error:
            solara.Error(error, dense=True)


@solara.component
def ParamControls(
    values: dict[str, Any],
    on_change: Callable[[str, Any], None],
    strands: list[str] | None = None,
    open_first: bool = True,
    big: bool = False,
):
    """All editable parameters grouped by strand, each group in an expansion panel."""
    groups = grouped_params()
    keys = [s for s in groups if strands is None or s in strands]
    # which panels are open is state: a fixed v_model would close the user's panels on every redraw
    open_panels, set_open_panels = solara.use_state([0] if open_first else [])
    with v.ExpansionPanels(
        multiple=True, v_model=open_panels, on_v_model=set_open_panels, accordion=False, flat=True
    ):
        for s in keys:
            changed = [p for p in groups[s] if p.name in values and values[p.name] != p.default]
            title = P.STRANDS.get(s, s)
            if changed:
                title += f"  ({len(changed)} changed)"
            with v.ExpansionPanel(class_=f"civsim-strand civsim-strand-{s}"):
                v.ExpansionPanelHeader(children=[title], class_="font-weight-bold")
                with v.ExpansionPanelContent():
                    for p in groups[s]:
                        ParamControl(p, values.get(p.name, p.default), on_change, big=big).key(p.name)
