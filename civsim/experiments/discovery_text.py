"""Scenario-discovery boxes in words and as JSON (:mod:`civsim.experiments.discovery`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from civsim.experiments.discovery import Box, Discovery


def _num(v: float) -> str:
    return f"{v:.3g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.2e}"


def describe_factor(name: str, lo: float | None, hi: float | None) -> str:
    """A factor restriction in words, with the schema's unit where known."""
    from civsim import params as schema

    p = schema.SCHEMA.get(name)
    unit = p.unit if p is not None else ""
    label = name.replace("_", " ")

    def val(v: float) -> str:
        if unit == "1/yr":
            return f"{100 * v:.3g}% a year"
        return _num(v) + (f" {unit}" if unit and unit not in ("", "x", "share", "0-1", "1") else "")

    if lo is not None and hi is not None:
        return f"{label} is between {val(lo)} and {val(hi)}"
    if lo is not None:
        return f"{label} is above {val(lo)}"
    return f"{label} is below {val(hi)}"  # type: ignore[arg-type]


def box_sentence(d: Discovery, b: Box) -> str:
    """The plain-language sentence of one box."""
    conds = []
    for name, (lo, hi) in sorted(b.limits.items(), key=lambda kv: b.qp.get(kv[0], 1.0)):
        dmin, dmax = float(d.x[name].min()), float(d.x[name].max())
        conds.append(describe_factor(name, lo if lo > dmin else None, hi if hi < dmax else None))
    metric = d.metric.replace("_", " ")
    verb = "falls below" if d.direction == "below" else "rises above"
    if not conds:
        return (
            f"{metric} {verb} {_num(d.threshold)} in {100 * b.density:.0f}% of all {d.noun}; "
            "no range of the factors singles these cases out."
        )
    where = " and ".join(conds)
    return (
        f"{metric} {verb} {_num(d.threshold)} in {100 * b.density:.0f}% of the {d.noun} where {where}; "
        f"these {d.noun} hold {100 * b.coverage:.0f}% of all such cases "
        f"and are {100 * b.mass:.0f}% of all {d.noun}."
    )


def sentences(d: Discovery) -> list[str]:
    """One sentence per box (see :func:`box_sentence`)."""
    return [box_sentence(d, b) for b in d.boxes]


def boxes_json(d: Discovery) -> dict[str, Any]:
    """``{"boxes": [{"coverage", "density", "mass", "limits": {factor: [low, high]}}, ...]}``,
    exactly the issue's format, listing only restricted factors."""
    return {
        "boxes": [
            {
                "coverage": b.coverage,
                "density": b.density,
                "mass": b.mass,
                "limits": {k: [lo, hi] for k, (lo, hi) in b.limits.items()},
            }
            for b in d.boxes
        ]
    }


def details_json(d: Discovery) -> dict[str, Any]:
    """What ``boxes.json`` leaves out: the analysis settings, quasi-p values,
    counts, sentences, notes and (PRIM) the peeling trajectories."""
    return {
        "method": d.method,
        "metric": d.metric,
        d.direction: d.threshold,
        "rule": d.rule,
        "factors": d.factors,
        "rows": int(len(d.y)),
        "cases": d.n_cases,
        "boxes": [
            {
                "qp": b.qp,
                "rows": b.rows,
                "cases": b.cases,
                "trajectory_index": b.trajectory_index,
                "pasted": b.pasted,
                "sentence": box_sentence(d, b),
            }
            for b in d.boxes
        ],
        "trajectories": [t.to_dict(orient="list") for t in d.trajectories],
        "notes": d.notes,
    }
