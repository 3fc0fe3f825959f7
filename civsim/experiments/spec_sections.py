"""The ``[factors]``, ``[design]`` and ``[output]`` tables of an experiment file."""

from __future__ import annotations

import math
from typing import Any

from civsim import params as schema
from civsim.experiments.spec_checks import _check_keys, _Ctx, _hint, _int, _param, _table
from civsim.experiments.spec_types import (
    DEFAULT_METRICS,
    DESIGN_KINDS,
    KEEP_KINDS,
    MAX_RUNS,
    MAX_STEPS,
    DesignSpec,
    Factor,
    OutputSpec,
)

_OUTPUT_KEYS = ("keep", "metrics", "every")
_FACTOR_KEYS = ("values", "range", "num")
_DESIGN_KEYS: dict[str, tuple[str, ...]] = {
    "grid": ("kind",),
    "list": ("kind",),
    "lhs": ("kind", "samples"),
    "sobol": ("kind", "samples", "second_order"),
    "morris": ("kind", "trajectories", "levels"),
}


def _parse_factors(ctx: _Ctx, table: dict[str, Any]) -> tuple[Factor, ...]:
    out = []
    for name, spec in table.items():
        where = f"[factors] {name}"
        if name not in schema.SCHEMA:
            raise ctx.fail(
                where, f"unknown parameter {name!r}{schema.suggest(name)}; run `civsim params` to list them"
            )
        p = schema.SCHEMA[name]
        if p.type == "list":
            raise ctx.fail(where, f"{name} is a list parameter and cannot be a factor; set it in [params]")
        if isinstance(spec, list):
            spec = {"values": spec}
        if not isinstance(spec, dict):
            raise ctx.fail(
                where,
                f"{spec!r} is not allowed: expected a list of values, or a table "
                "{ values = [...] } or { range = [low, high], num = n }",
            )
        _check_keys(ctx, where, spec, _FACTOR_KEYS)
        if ("values" in spec) == ("range" in spec):
            raise ctx.fail(where, "give exactly one of values = [...] or range = [low, high]")
        if "values" in spec:
            if "num" in spec:
                raise ctx.fail(f"{where}.num", "num goes with range = [low, high], not with values")
            values = spec["values"]
            if not isinstance(values, list) or not values:
                raise ctx.fail(f"{where}.values", f"{values!r} is not allowed: expected a non-empty list")
            checked = tuple(_param(ctx, f"{where}.values[{i}]", name, v) for i, v in enumerate(values))
            out.append(Factor(name, p.type, values=checked))
        else:
            rng = spec["range"]
            if p.type not in ("float", "int"):
                raise ctx.fail(
                    f"{where}.range",
                    f"{name} is a {p.type} parameter: use values = [...] ({p.allowed()}), not a range",
                )
            if (
                not isinstance(rng, list)
                or len(rng) != 2
                or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in rng)
            ):
                raise ctx.fail(f"{where}.range", f"{rng!r} is not allowed: expected [low, high], two numbers")
            low = _param(ctx, f"{where}.range[0]", name, rng[0])
            high = _param(ctx, f"{where}.range[1]", name, rng[1])
            if not low < high:
                raise ctx.fail(f"{where}.range", f"{rng!r} is not allowed: low must be below high")
            num = spec.get("num")
            if num is not None:
                num = _int(ctx, f"{where}.num", num, 2, 100_000)
            out.append(Factor(name, p.type, low=float(low), high=float(high), num=num))
    return tuple(out)


def _parse_design(ctx: _Ctx, raw: Any, factors: tuple[Factor, ...]) -> DesignSpec:
    table = _table(ctx, "design", raw)
    kind = table.get("kind", "grid")
    if kind not in DESIGN_KINDS:
        raise ctx.fail(
            "[design] kind",
            f"{kind!r} is not allowed: expected one of {', '.join(repr(k) for k in DESIGN_KINDS)}"
            f"{_hint(str(kind), DESIGN_KINDS)}",
        )
    _check_keys(ctx, f"[design] (kind = {kind!r})", table, _DESIGN_KEYS[kind])
    if kind != "list":  # a list design zips the i-th values, so a value may recur (e.g. posterior draws)
        for f in factors:
            if f.values is not None and len(set(f.values)) != len(f.values):
                raise ctx.fail(
                    f"[factors] {f.name}.values",
                    f"{list(f.values)!r} is not allowed: values must be distinct (except in a list design)",
                )
    if kind == "grid":
        for f in factors:
            if f.is_range and f.num is None:
                raise ctx.fail(
                    f"[factors] {f.name}",
                    "a range in a grid design needs num = n (how many evenly spaced values), "
                    "or use values = [...]",
                )
        return DesignSpec("grid")
    for f in factors:
        if kind != "grid" and f.num is not None:
            raise ctx.fail(
                f"[factors] {f.name}.num",
                f"num is for grid designs only; the {kind} design samples the range",
            )
    if kind == "list":
        for f in factors:
            if f.is_range:
                raise ctx.fail(
                    f"[factors] {f.name}", "a list design needs values = [...] for every factor, not a range"
                )
        lengths = {f.name: len(f.values or ()) for f in factors}
        if len(set(lengths.values())) > 1:
            detail = ", ".join(f"{k}: {v}" for k, v in lengths.items())
            raise ctx.fail(
                "[factors]",
                "a list design pairs the i-th values of every factor, "
                f"so all need the same length (got {detail})",
            )
        return DesignSpec("list")
    if not factors:
        raise ctx.fail("[factors]", f"a {kind} design needs at least one factor")
    if kind == "lhs":
        if "samples" not in table:
            raise ctx.fail(
                "[design] samples", "missing: a Latin hypercube needs samples = n (number of points)"
            )
        return DesignSpec("lhs", samples=_int(ctx, "[design] samples", table["samples"], 1, MAX_RUNS))
    if kind == "sobol":
        if len(factors) < 2:
            raise ctx.fail("[factors]", "a sobol design needs at least two factors")
        if "samples" not in table:
            raise ctx.fail(
                "[design] samples", "missing: a Sobol design needs samples = N (a power of 2, e.g. 256)"
            )
        n = _int(ctx, "[design] samples", table["samples"], 2, MAX_RUNS)
        if n & (n - 1):
            lo = 2 ** int(math.log2(n))
            raise ctx.fail(
                "[design] samples", f"{n} is not allowed: expected a power of 2 (e.g. {lo} or {lo * 2})"
            )
        so = table.get("second_order", False)
        if not isinstance(so, bool):
            raise ctx.fail("[design] second_order", f"{so!r} is not allowed: expected true or false")
        return DesignSpec("sobol", samples=n, second_order=so)
    # morris
    if "trajectories" not in table:
        raise ctx.fail("[design] trajectories", "missing: a Morris design needs trajectories = r (e.g. 20)")
    r = _int(ctx, "[design] trajectories", table["trajectories"], 2, MAX_RUNS)
    levels = _int(ctx, "[design] levels", table.get("levels", 4), 2, 100)
    if levels % 2:
        raise ctx.fail("[design] levels", f"{levels} is not allowed: expected an even integer (e.g. 4)")
    return DesignSpec("morris", trajectories=r, levels=levels)


def _parse_output(ctx: _Ctx, table: dict[str, Any], known: tuple[str, ...]) -> OutputSpec:
    _check_keys(ctx, "[output]", table, _OUTPUT_KEYS)
    keep = table.get("keep", "summary")
    if keep not in KEEP_KINDS:
        raise ctx.fail(
            "[output] keep",
            f"{keep!r} is not allowed: expected 'summary' (one row per run) "
            "or 'series' (one row per run and step)",
        )
    metrics = table.get("metrics", list(DEFAULT_METRICS))
    if not isinstance(metrics, list) or not metrics:
        raise ctx.fail(
            "[output] metrics", f"{metrics!r} is not allowed: expected a non-empty list of metric names"
        )
    for i, m in enumerate(metrics):
        if not isinstance(m, str) or m not in known:
            raise ctx.fail(
                f"[output] metrics[{i}]",
                f"{m!r} is not allowed: expected one of {', '.join(known)}{_hint(str(m), known)}",
            )
    if len(set(metrics)) != len(metrics):
        raise ctx.fail("[output] metrics", f"{metrics!r} is not allowed: names must be distinct")
    every = table.get("every", 1)
    every = _int(ctx, "[output] every", every, 1, MAX_STEPS)
    if every != 1 and keep != "series":
        raise ctx.fail("[output] every", f"{every} is not allowed: every applies to keep = 'series' only")
    return OutputSpec(keep=keep, metrics=tuple(metrics), every=every)
