"""Strategy experiment files: ``[uncertainties]``, ``[strategies.NAME]`` and ``[levers]``.

The format is described in :mod:`civsim.experiments.futures`; every problem is one
:class:`~civsim.errors.UserError` line naming the file, the table and the key.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from civsim import params as schema
from civsim.errors import UserError
from civsim.experiments.spec import Experiment, Factor, find_experiment, parse_experiment
from civsim.experiments.strategy_types import Strategy, StrategyExperiment

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
_STRATEGY_KEYS = ("description",)
_EXTRA_TABLES = ("uncertainties", "strategies", "levers")


def is_strategy_data(data: dict[str, Any]) -> bool:
    """True when parsed experiment TOML declares uncertainties or strategies."""
    return any(k in data for k in ("uncertainties", "strategies"))


def read_toml(name_or_path: str | Path) -> tuple[Path, str, dict[str, Any]]:
    """Find, read and parse an experiment file (one-line errors)."""
    path = find_experiment(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read the file: {exc}") from None
    try:
        return path, text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: not valid TOML: {exc}") from None


def load_any_experiment(name_or_path: str | Path) -> Experiment | StrategyExperiment:
    """Load an experiment file: a :class:`StrategyExperiment` if it declares
    ``[uncertainties]`` or ``[strategies]``, else an ordinary experiment."""
    path, text, data = read_toml(name_or_path)
    if is_strategy_data(data):
        return parse_strategy_experiment(data, path, text)
    return parse_experiment(data, path, text)


def load_strategy_experiment(name_or_path: str | Path) -> StrategyExperiment:
    """Read and validate a strategy experiment file.

    Raises
    ------
    UserError
        One line naming the file, the key, the value and what is allowed.
    """
    path, text, data = read_toml(name_or_path)
    if not is_strategy_data(data):
        raise UserError(
            f"{path}: not a strategy experiment: declare [uncertainties] (sampled as futures) "
            "and [strategies.NAME] tables (lever settings)"
        )
    return parse_strategy_experiment(data, path, text)


def parse_strategy_experiment(data: dict[str, Any], path: Path, text: str = "") -> StrategyExperiment:
    """Validate the parsed TOML of a strategy experiment.

    Raises
    ------
    UserError
        Unknown parameter, a lever that is also an uncertainty, a bad
        strategy name, no strategies, ``[factors]`` given, ... -- one line.
    """
    where = str(path)
    if "factors" in data:
        raise UserError(
            f"{where}: [factors]: a strategy experiment varies [uncertainties] (the futures) "
            "and sets levers in [strategies.NAME]; rename [factors] to [uncertainties]"
        )
    if "uncertainties" not in data:
        raise UserError(
            f"{where}: [uncertainties]: missing: name the ranges sampled as futures, "
            "e.g. austerity_rate = { range = [-0.1, 0.0] }"
        )
    if "design" not in data:
        raise UserError(
            f"{where}: [design]: missing: say how futures are sampled, "
            'e.g. kind = "lhs" and samples = 200 (or kind = "sobol")'
        )
    unc = data["uncertainties"]
    if not isinstance(unc, dict) or not unc:
        raise UserError(f"{where}: [uncertainties]: {unc!r} is not allowed: expected a table of ranges")
    plain = {k: v for k, v in data.items() if k not in _EXTRA_TABLES}
    plain["factors"] = unc
    try:
        base = parse_experiment(plain, path, text)
    except UserError as exc:
        raise UserError(str(exc).replace("[factors]", "[uncertainties]")) from None
    if base.design.kind == "morris":
        raise UserError(
            f"{where}: [design] kind: 'morris' is not allowed for futures: "
            "expected 'lhs' or 'sobol' (or 'grid' / 'list')"
        )
    strategies = _parse_strategies(where, data.get("strategies"), set(base.factor_names), base.base)
    levers = _parse_levers(path, data.get("levers", {}), set(base.factor_names))
    return StrategyExperiment(base=base, strategies=strategies, levers=levers)


def _parse_strategies(
    where: str, raw: Any, uncertain: set[str], base: dict[str, Any]
) -> tuple[Strategy, ...]:
    if raw is None:
        raise UserError(
            f"{where}: [strategies]: missing: declare at least one [strategies.NAME] table "
            "(an empty [strategies.status_quo] runs the base scenario)"
        )
    if not isinstance(raw, dict) or not raw:
        raise UserError(f"{where}: [strategies]: {raw!r} is not allowed: expected [strategies.NAME] tables")
    out = []
    for name, table in raw.items():
        key = f"[strategies.{name}]"
        if not _NAME.match(name):
            raise UserError(
                f"{where}: {key}: the name {name!r} is not allowed: expected a letter, then "
                "letters, digits, '_' or '-' (at most 64), e.g. status_quo"
            )
        if not isinstance(table, dict):
            raise UserError(f"{where}: {key}: {table!r} is not allowed: expected a table of lever = value")
        desc = table.get("description", "")
        if not isinstance(desc, str):
            raise UserError(f"{where}: {key} description: {desc!r} is not allowed: expected a string")
        levers: dict[str, Any] = {}
        for lever, value in table.items():
            if lever in _STRATEGY_KEYS:
                continue
            if lever not in schema.SCHEMA:
                raise UserError(
                    f"{where}: {key} {lever}: unknown parameter {lever!r}{schema.suggest(lever)}; "
                    "run `civsim params` to list them"
                )
            if lever in uncertain:
                raise UserError(
                    f"{where}: {key} {lever}: {lever} is an uncertainty (sampled in every "
                    "future), so a strategy cannot set it; remove it from one of the two"
                )
            try:
                levers[lever] = schema.check(lever, value)
            except schema.ParamError as exc:
                raise UserError(f"{where}: {key} {lever}: {exc}") from None
        try:
            schema.resolve({**base, **levers})
        except schema.ParamError as exc:
            raise UserError(f"{where}: {key}: {exc}") from None
        out.append(Strategy(name=name, description=desc, levers=levers))
    return tuple(out)


def _parse_levers(path: Path, raw: Any, uncertain: set[str]) -> tuple[Factor, ...]:
    if not isinstance(raw, dict):
        raise UserError(f"{path}: [levers]: {raw!r} is not allowed: expected a table of ranges")
    if not raw:
        return ()
    for name in raw:
        if name in uncertain:
            raise UserError(
                f"{path}: [levers] {name}: {name} is an uncertainty (sampled in every future), "
                "so it cannot also be a lever; remove it from one of the two"
            )
    # the factor parser validates names, ranges and values against the schema
    dummy = {"experiment": {"seed": 0, "steps": 1}, "factors": raw, "design": {"kind": "lhs", "samples": 1}}
    try:
        exp = parse_experiment(dummy, path)
    except UserError as exc:
        raise UserError(str(exc).replace("[factors]", "[levers]")) from None
    for f in exp.factors:
        if not f.is_range:
            raise UserError(
                f"{path}: [levers] {f.name}: give range = [low, high] (the search space), not values"
            )
    return exp.factors
