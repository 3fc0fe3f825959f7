"""The schema as a Markdown table and as plain records (``civsim params``)."""

from __future__ import annotations

from typing import Any

from civsim.parameters.param import STRANDS, Param
from civsim.parameters.schema import SCHEMA


def markdown_table() -> str:
    """The schema as a Markdown table (the parameter table of docs/ODD.md)."""

    def fmt(v: Any) -> str:
        if isinstance(v, str) and not v:
            return '""'
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, tuple):
            return ", ".join(fmt(x) for x in v) if v else "(none)"
        return f"{v:g}" if isinstance(v, float) else str(v)

    def allowed(p: Param) -> str:
        if p.type == "path":
            return "file path"
        if p.type == "bool":
            return "true/false"
        if p.type == "choice":
            return " / ".join(p.choices)
        if p.type == "list":
            return ">= 2 distinct names"
        if p.type == "series":
            return f"numbers in [{fmt(p.min)}, {fmt(p.max)}]"
        if p.type == "text":
            return "YYYY-MM"
        return f"[{fmt(p.min)}, {fmt(p.max)}]"

    lines = ["| name | type | default | range | unit | strand | help |", "|---|---|---|---|---|---|---|"]
    for p in SCHEMA.values():
        t = p.type + (" (structural)" if p.structural else "")
        lines.append(
            f"| `{p.name}` | {t} | {fmt(p.default)} | {allowed(p)} | {p.unit} "
            f"| {STRANDS[p.strand]} | {p.help} |"
        )
    return "\n".join(lines) + "\n"


def schema_records() -> list[dict[str, Any]]:
    """The schema as plain records (for ``civsim params --json`` and tools)."""
    return [
        {
            "name": p.name,
            "type": p.type,
            "default": list(p.default) if isinstance(p.default, tuple) else p.default,
            "min": p.min,
            "max": p.max,
            "unit": p.unit,
            "strand": p.strand,
            "help": p.help,
            "choices": list(p.choices),
            "structural": p.structural,
        }
        for p in SCHEMA.values()
    ]
