"""Calibration files: what to calibrate, against what, and how hard to try.

A calibration file is TOML::

    name = "volunteering"
    scenario = "austerity"        # preset name or path
    steps = 144
    citizens = 5000
    replicates = 4                # runs per parameter point in history matching
    seed = 1
    discrepancy = 0.015           # model discrepancy sd (units of each metric)

    [parameters]                  # uniform priors, name = [low, high], inside the schema's range
    burnout_rate = [0.0, 0.2]

    [[targets]]                   # an observation given in full ...
    metric = "engagement"
    step = 36
    value = 0.22
    sd = 0.01

    [[targets]]                   # ... or taken from the shipped evidence
    evidence = "cls_formal_monthly_2019_20"
    role = "predict"              # fit (default) | predict (held out) | show (plotted only)

Optional tables: ``[set]`` fixes other parameters; ``[history_matching]``
(``waves``, ``points``, ``cutoff``); ``[abc]`` (``population``,
``generations``, ``quantile``, ``min_acceptance``). A target may also give
``window = [from, to]`` (average the metric over those months),
``relative_to`` (divide by the value at that month), ``discrepancy`` (its own
model discrepancy) and ``note``.

Every problem is one :class:`~civsim.errors.UserError` line naming the file,
the key, the value and what is allowed.
"""

from __future__ import annotations

import difflib
import hashlib
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from civsim.calibration.evidence import evidence_target, parse_month, scenario_start
from civsim.errors import UserError
from civsim.experiments.spec import SERIES_METRICS
from civsim.params import SCHEMA, ParamError, check

TOP_KEYS = (
    "name",
    "description",
    "scenario",
    "steps",
    "citizens",
    "replicates",
    "seed",
    "start",
    "discrepancy",
    "engine",
    "parameters",
    "set",
    "targets",
    "history_matching",
    "abc",
)
TARGET_KEYS = (
    "metric",
    "step",
    "value",
    "sd",
    "evidence",
    "role",
    "window",
    "relative_to",
    "discrepancy",
    "note",
)
ROLES = ("fit", "predict", "show")
HM_DEFAULTS: dict[str, Any] = {"waves": 3, "points": 80, "cutoff": 3.0}
ABC_DEFAULTS: dict[str, Any] = {
    "population": 200,
    "generations": 8,
    "quantile": 0.5,
    "min_acceptance": 0.02,
    "epsilon": 1.0,
}
ENGINES = ("batch", "toy")


@dataclass(frozen=True)
class Prior:
    """A uniform prior on one parameter."""

    name: str
    low: float
    high: float

    @property
    def width(self) -> float:
        """``high - low``."""
        return self.high - self.low


@dataclass(frozen=True)
class Target:
    """One observation and how the model is measured against it.

    The model's value is ``metric`` averaged over months ``window`` (or at
    ``step`` alone), divided by its value at ``relative_to`` when set.
    """

    name: str
    metric: str
    step: int
    value: float
    sd: float
    role: str = "fit"
    window: tuple[int, int] | None = None
    relative_to: int | None = None
    discrepancy: float | None = None
    note: str = ""
    source: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready description."""
        return {
            "name": self.name,
            "metric": self.metric,
            "step": self.step,
            "value": self.value,
            "sd": self.sd,
            "role": self.role,
            "window": list(self.window) if self.window else None,
            "relative_to": self.relative_to,
            "discrepancy": self.discrepancy,
            "note": self.note,
            "source": self.source,
        }


@dataclass
class CalibrationSpec:
    """A validated calibration file."""

    name: str
    path: str
    text: str
    scenario: str
    steps: int
    citizens: int
    replicates: int
    seed: int
    start: str
    discrepancy: float
    priors: list[Prior]
    targets: list[Target]
    fixed: dict[str, Any] = field(default_factory=dict)
    hm: dict[str, Any] = field(default_factory=lambda: dict(HM_DEFAULTS))
    abc: dict[str, Any] = field(default_factory=lambda: dict(ABC_DEFAULTS))
    engine: str = "batch"
    description: str = ""
    base: dict[str, Any] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        """Calibrated parameter names, in file order."""
        return [p.name for p in self.priors]

    @property
    def fit_targets(self) -> list[Target]:
        """Targets the calibration fits."""
        return [t for t in self.targets if t.role == "fit"]

    def discrepancy_of(self, target: Target) -> float:
        """Model discrepancy sd of a target (its own, else the file's)."""
        return self.discrepancy if target.discrepancy is None else target.discrepancy

    @property
    def hash(self) -> str:
        """SHA-256 of the file text (part of a results directory's identity)."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def _suggest(key: str, allowed: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _number(value: Any, where: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise UserError(f"{where} = {value!r} is not allowed: expected a finite number")
    if positive and value <= 0:
        raise UserError(f"{where} = {value!r} is not allowed: expected a number > 0")
    return float(value)


def _integer(value: Any, where: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise UserError(f"{where} = {value!r} is not allowed: expected an integer in [{lo}, {hi}]")
    return int(value)


def load_calibration(path: str | Path) -> CalibrationSpec:
    """Read and validate a calibration file.

    Raises
    ------
    UserError
        Missing file, broken TOML, unknown keys, unknown parameters or
        metrics, ``low >= high``, ranges outside the schema, steps beyond
        ``steps``, missing target fields.
    """
    p = Path(path)
    if not p.is_file():
        raise UserError(f"{path}: file not found")
    try:
        text = p.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read file ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: not valid TOML ({exc})") from None
    return parse_calibration(data, str(p), text)


def parse_calibration(data: dict[str, Any], source: str, text: str = "") -> CalibrationSpec:
    """Validate parsed TOML (see :func:`load_calibration`)."""
    from civsim.scenario import load_scenario

    for key in data:
        if key not in TOP_KEYS:
            raise UserError(
                f"{source}: unknown key {key!r}{_suggest(key, TOP_KEYS)}; allowed: {', '.join(TOP_KEYS)}"
            )
    for key in ("name", "scenario", "parameters", "targets"):
        if key not in data:
            raise UserError(f"{source}: missing key {key!r}")
    name = data["name"]
    if not isinstance(name, str) or not name.strip():
        raise UserError(f"{source}: name = {name!r} is not allowed: expected a non-empty string")
    try:
        scen = load_scenario(str(data["scenario"]))
    except UserError as exc:
        raise UserError(f"{source}: scenario: {exc}") from None
    steps = _integer(data.get("steps", scen.steps), f"{source}: steps", 1, 2400)
    citizens = _integer(data.get("citizens", 2000), f"{source}: citizens", 10, 10_000_000)
    replicates = _integer(data.get("replicates", 4), f"{source}: replicates", 1, 1000)
    seed = _integer(data.get("seed", 0), f"{source}: seed", 0, 2**63 - 1)
    start = str(data.get("start", scenario_start(scen)))  # the file's, else the scenario's, else April 2010
    try:
        parse_month(start)
    except UserError as exc:
        raise UserError(f"{source}: {exc}") from None
    discrepancy = _number(data.get("discrepancy", 0.0), f"{source}: discrepancy")
    if discrepancy < 0:
        raise UserError(f"{source}: discrepancy = {discrepancy!r} is not allowed: expected a number >= 0")
    engine = data.get("engine", "batch")
    if engine not in ENGINES:
        raise UserError(f"{source}: engine = {engine!r} is not allowed: expected one of {', '.join(ENGINES)}")

    fixed_raw = data.get("set", {})
    if not isinstance(fixed_raw, dict):
        raise UserError(f"{source}: set must be a table of parameter = value")
    fixed: dict[str, Any] = {}
    for k, v in fixed_raw.items():
        try:
            fixed[k] = check(k, v)
        except ParamError as exc:
            raise UserError(f"{source}: set: {exc}") from None

    priors = _priors(data["parameters"], source, fixed)
    targets = _targets(data["targets"], source, steps, start)
    base = {**scen.params, **fixed, "n_citizens": citizens}
    try:
        check("n_citizens", citizens)
    except ParamError as exc:
        raise UserError(f"{source}: citizens: {exc}") from None
    hm = _options(data.get("history_matching", {}), HM_DEFAULTS, f"{source}: history_matching")
    abc = _options(data.get("abc", {}), ABC_DEFAULTS, f"{source}: abc")
    return CalibrationSpec(
        name=name.strip(),
        path=source,
        text=text,
        scenario=str(data["scenario"]),
        steps=steps,
        citizens=citizens,
        replicates=replicates,
        seed=seed,
        start=start,
        discrepancy=discrepancy,
        priors=priors,
        targets=targets,
        fixed=fixed,
        hm=hm,
        abc=abc,
        engine=engine,
        description=str(data.get("description", "")),
        base=base,
    )


def _priors(raw: Any, source: str, fixed: dict[str, Any]) -> list[Prior]:
    if not isinstance(raw, dict) or not raw:
        raise UserError(f"{source}: parameters must be a table of name = [low, high] (at least one)")
    priors = []
    for name, bounds in raw.items():
        where = f"{source}: parameters.{name}"
        if name not in SCHEMA:
            close = difflib.get_close_matches(name, list(SCHEMA), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise UserError(f"{where}: unknown parameter {name!r}{hint}; run `civsim params` to list them")
        par = SCHEMA[name]
        if par.type != "float" or par.structural:
            raise UserError(
                f"{where}: only non-structural float parameters can be calibrated ({name} is {par.type})"
            )
        if name in fixed:
            raise UserError(f"{where}: {name} is also fixed in [set]; calibrate it or fix it, not both")
        if not isinstance(bounds, list) or len(bounds) != 2:
            raise UserError(f"{where} = {bounds!r} is not allowed: expected [low, high]")
        lo, hi = (_number(b, where) for b in bounds)
        if lo >= hi:
            raise UserError(f"{where} = [{lo:g}, {hi:g}] is not allowed: low must be below high")
        for v in (lo, hi):
            try:
                par.coerce(v)
            except ParamError:
                raise UserError(
                    f"{where} = [{lo:g}, {hi:g}] is not allowed: the prior must lie within {par.allowed()}"
                ) from None
        priors.append(Prior(name, lo, hi))
    return priors


def _targets(raw: Any, source: str, steps: int, start: str) -> list[Target]:
    if not isinstance(raw, list) or not raw:
        raise UserError(f"{source}: targets must be an array of tables ([[targets]]), at least one")
    out: list[Target] = []
    for i, t in enumerate(raw):
        where = f"{source}: targets[{i}]"
        if not isinstance(t, dict):
            raise UserError(f"{where}: expected a table")
        for key in t:
            if key not in TARGET_KEYS:
                raise UserError(f"{where}: unknown key {key!r}{_suggest(key, TARGET_KEYS)}")
        role = t.get("role", "fit")
        if role not in ROLES:
            raise UserError(f"{where}.role = {role!r} is not allowed: expected one of {', '.join(ROLES)}")
        disc = t.get("discrepancy")
        if disc is not None and _number(disc, f"{where}.discrepancy") < 0:
            raise UserError(f"{where}.discrepancy = {disc!r} is not allowed: expected a number >= 0")
        note = str(t.get("note", ""))
        if "evidence" in t:
            e = evidence_target(str(t["evidence"]), start, where=f"{where}.evidence")
            tgt = Target(
                name=e.id,
                metric=e.metric,
                step=e.step,
                value=e.value,
                sd=e.sd,
                role=role,
                window=e.window,
                relative_to=e.relative_to,
                discrepancy=None if disc is None else float(disc),
                note=note,
                source=e.source,
            )
            for key in ("metric", "step", "value", "sd", "window", "relative_to"):
                if key in t:
                    raise UserError(f"{where}: {key!r} comes from evidence {e.id!r}; give one or the other")
        else:
            missing = [k for k in ("metric", "step", "value", "sd") if k not in t]
            if missing:
                raise UserError(
                    f"{where}: missing {', '.join(repr(m) for m in missing)} "
                    "(a target needs metric, step, value and sd, or evidence = <id>)"
                )
            metric = t["metric"]
            if metric not in SERIES_METRICS:
                raise UserError(
                    f"{where}.metric = {metric!r} is not allowed: expected one of {', '.join(SERIES_METRICS)}"
                )
            step = _integer(t["step"], f"{where}.step", 0, steps)
            window = None
            if "window" in t:
                w = t["window"]
                if not isinstance(w, list) or len(w) != 2:
                    raise UserError(
                        f"{where}.window = {w!r} is not allowed: expected [first_month, last_month]"
                    )
                a, b = (_integer(x, f"{where}.window", 0, steps) for x in w)
                if a > b:
                    raise UserError(f"{where}.window = {w!r} is not allowed: first month after last")
                window = (a, b)
            rel = t.get("relative_to")
            if rel is not None:
                rel = _integer(rel, f"{where}.relative_to", 0, steps)
            tgt = Target(
                name=f"{metric}@{step}",
                metric=metric,
                step=step,
                value=_number(t["value"], f"{where}.value"),
                sd=_number(t["sd"], f"{where}.sd", positive=True),
                role=role,
                window=window,
                relative_to=rel,
                discrepancy=None if disc is None else float(disc),
                note=note,
            )
        last = max(tgt.window[1] if tgt.window else tgt.step, tgt.step)
        if last > steps:
            raise UserError(
                f"{where}: {tgt.name} needs month {last}, beyond steps = {steps}; "
                "raise steps or drop the target"
            )
        if any(o.name == tgt.name for o in out):
            raise UserError(f"{where}: target {tgt.name!r} appears twice")
        out.append(tgt)
    if not any(t.role == "fit" for t in out):
        raise UserError(f'{source}: targets: at least one target must have role = "fit"')
    return out


def _options(raw: Any, defaults: dict[str, Any], where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise UserError(f"{where} must be a table")
    out = dict(defaults)
    for key, value in raw.items():
        if key not in defaults:
            raise UserError(
                f"{where}: unknown key {key!r}{_suggest(key, tuple(defaults))}; "
                f"allowed: {', '.join(defaults)}"
            )
        if isinstance(defaults[key], int):
            out[key] = _integer(value, f"{where}.{key}", 1, 1_000_000)
        else:
            v = _number(value, f"{where}.{key}", positive=True)
            if key in ("quantile", "min_acceptance") and v >= 1:
                raise UserError(f"{where}.{key} = {value!r} is not allowed: expected a number in (0, 1)")
            out[key] = v
    return out
