"""Strategy experiments: uncertainties (futures) apart from levers (strategies).

An exploratory-modelling experiment (Lempert et al. 2003; Kwakkel 2017)
separates what a locality cannot control -- the *uncertainties*, sampled as
futures -- from what it chooses -- the *levers*, set by named *strategies*.
A strategy experiment file is an ordinary experiment file (see
:mod:`civsim.experiments.spec`) in which ``[factors]`` is replaced by::

    [uncertainties]                      # sampled as futures by [design]
    austerity_rate = { range = [-0.10, 0.0] }
    interdependence = { range = [0.2, 1.2] }

    [design]
    kind = "lhs"                         # or "sobol" (or grid / list)
    samples = 200

    [strategies.status_quo]              # an empty table: the base scenario
    [strategies.convening]
    description = "Money for convening partnerships."
    convening_funds = 0.1

    [levers]                             # optional: ranges `civsim search` explores
    convening_funds = { range = [0.0, 0.2] }

Every strategy runs in every future with the same replicates. Each strategy
is an ordinary sweep of the uncertainties (same design, same seed) stored in
``OUT/strategy=<name>/``, so the existing machinery batches, resumes and
distributes it, and **seeds are paired**: replicate ``r`` of future ``f``
uses ``SeedSequence(seed, spawn_key=(f, r))`` under every strategy. A
difference between two strategies in one future is therefore a difference
of policy, not of luck (common random numbers).

``pandas.read_parquet(OUT)`` reads all strategies at once (the
``strategy=<name>`` folders are Hive partitions); :func:`load_strategy_results`
adds the ``future`` column and the lever columns.

References
----------
Lempert, Popper and Bankes (2003), Shaping the Next One Hundred Years, RAND MR-1626.
Kwakkel (2017), Environmental Modelling & Software 96, 239-250 (EMA Workbench).
"""

from __future__ import annotations

import contextlib
import json
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from civsim import params as schema
from civsim.errors import UserError
from civsim.experiments.spec import Experiment, Factor, find_experiment, parse_experiment


def _hint(name: str, allowed: list[str] | tuple[str, ...]) -> str:
    """`` (did you mean 'x'?)`` for a close match, else ``""``."""
    import difflib

    close = difflib.get_close_matches(name, list(allowed), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


STRATEGIES_MANIFEST = "_strategies.json"
"""Top-level manifest of a strategy results directory."""

FORMAT = "civsim-strategies/1"
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
_STRATEGY_KEYS = ("description",)
_EXTRA_TABLES = ("uncertainties", "strategies", "levers")


@dataclass(frozen=True)
class Strategy:
    """A named lever setting.

    Attributes
    ----------
    name : str
        Identifier (letters, digits, ``_`` and ``-``; a folder name on disk).
    description : str
        One line for tables and reports.
    levers : dict
        Parameter values this strategy sets (validated against the schema);
        every other parameter keeps the base value.
    """

    name: str
    description: str
    levers: dict[str, Any]


@dataclass(frozen=True)
class StrategyExperiment:
    """A validated strategy experiment: futures x strategies.

    Attributes
    ----------
    base : Experiment
        The experiment of the uncertainties alone (its factors are the
        uncertainties, its base the scenario and ``[params]``).
    strategies : tuple of Strategy
        The strategies, in file order.
    levers : tuple of Factor
        Lever ranges for :mod:`civsim.experiments.search` (may be empty).
    """

    base: Experiment
    strategies: tuple[Strategy, ...]
    levers: tuple[Factor, ...] = ()

    @property
    def name(self) -> str:
        """The experiment's name."""
        return self.base.name

    @property
    def uncertainties(self) -> tuple[str, ...]:
        """Names of the uncertainties, in file order."""
        return self.base.factor_names

    @property
    def lever_names(self) -> tuple[str, ...]:
        """Every parameter some strategy sets, or a ``[levers]`` range names (file order)."""
        names: dict[str, None] = {}
        for s in self.strategies:
            names.update(dict.fromkeys(s.levers))
        names.update(dict.fromkeys(f.name for f in self.levers))
        return tuple(names)

    def experiment_for(self, strategy: Strategy | str) -> Experiment:
        """The ordinary experiment that runs one strategy in every future."""
        s = self.strategy(strategy) if isinstance(strategy, str) else strategy
        return replace(self.base, name=f"{self.base.name}/{s.name}", base={**self.base.base, **s.levers})

    def strategy(self, name: str) -> Strategy:
        """Look a strategy up by name.

        Raises
        ------
        UserError
            Naming the known strategies.
        """
        for s in self.strategies:
            if s.name == name:
                return s
        known = [s.name for s in self.strategies]
        raise UserError(
            f"{self.base.path}: no strategy {name!r}{_hint(name, known)}; strategies: {', '.join(known)}"
        )

    def identity(self) -> dict[str, Any]:
        """What decides the strategy directory's contents (each sub-sweep guards the rest)."""
        return {
            "format": FORMAT,
            "name": self.name,
            "uncertainties": [f.as_dict() for f in self.base.factors],
            "design": self.base.design.as_dict(),
            "seed": self.base.seed,
            "replicates": self.base.replicates,
            "steps": self.base.steps,
            "strategies": {s.name: _jsonable(s.levers) for s in self.strategies},
        }


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj


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


# --------------------------------------------------------------------------
# Running


def strategy_dir(out: Path | str, name: str) -> Path:
    """The sweep directory of one strategy: ``OUT/strategy=<name>``."""
    return Path(out) / f"strategy={name}"


def _prepare_root(sx: StrategyExperiment, out: Path) -> None:
    """Create ``out`` or check it holds this strategy experiment."""
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: is a file, not a directory; choose another --out")
    manifest = out / STRATEGIES_MANIFEST
    new = {
        "format": FORMAT,
        "identity": sx.identity(),
        "experiment": str(sx.base.path),
        "strategies": [
            {"name": s.name, "description": s.description, "levers": _jsonable(s.levers)}
            for s in sx.strategies
        ],
        "uncertainties": list(sx.uncertainties),
        "levers": list(sx.lever_names),
    }
    if manifest.is_file():
        try:
            old = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UserError(f"{manifest}: cannot read the manifest: {exc}") from None
        if old.get("identity") != new["identity"]:
            changed = sorted(
                k for k in new["identity"] if old.get("identity", {}).get(k) != new["identity"][k]
            )
            raise UserError(
                f"--out {out}: holds results of a different strategy experiment "
                f"({old.get('experiment', '?')}; changed: {', '.join(changed)}); "
                "use a new --out directory, or delete this one to start over"
            )
        return
    if out.is_dir() and any(not p.name.startswith(".") for p in out.iterdir()):
        raise UserError(
            f"--out {out}: exists and is not a strategy results directory "
            f"(no {STRATEGIES_MANIFEST}); choose a new or empty directory"
        )
    out.mkdir(parents=True, exist_ok=True)
    from civsim.experiments.storage import atomic_write_bytes

    atomic_write_bytes(manifest, (json.dumps(new, indent=1) + "\n").encode("utf-8"))


@dataclass
class StrategyRunResult:
    """What :func:`run_strategies` did: one sweep result per strategy."""

    out: Path
    results: dict[str, Any]

    @property
    def runs_run(self) -> int:
        """Runs simulated by this call."""
        return sum(r.runs_run for r in self.results.values())

    @property
    def n_runs(self) -> int:
        """Runs of the whole experiment."""
        return sum(r.n_runs for r in self.results.values())

    @property
    def seconds(self) -> float:
        """Simulation wall time of this call."""
        return sum(r.seconds for r in self.results.values())


def run_strategies(
    sx: StrategyExperiment,
    out: Path | str,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    backend: str = "auto",
    engine: str = "batch",
    progress: bool | Callable[[str, int, int], None] = False,
) -> StrategyRunResult:
    """Run every strategy in every future (resuming what is on disk).

    Parameters
    ----------
    sx : StrategyExperiment
        The validated experiment.
    out : path
        Results directory; strategy ``s`` goes to ``out/strategy=s``.
    workers, scheduler, backend, engine :
        As for :func:`civsim.experiments.runner.run_sweep`. With several
        workers and no scheduler, one local Dask cluster serves every
        strategy.
    progress : bool or callable
        True: a progress bar per strategy; a callable gets
        ``(strategy, runs_done, runs_total)``.

    Returns
    -------
    StrategyRunResult
    """
    from civsim.experiments.executors import available_cores, open_executor
    from civsim.experiments.runner import run_sweep

    out = Path(out)
    _prepare_root(sx, out)
    workers = workers or available_cores()
    results: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        if scheduler is None and backend in ("auto", "dask") and workers > 1:
            ex = stack.enter_context(open_executor("dask", workers))
            client = getattr(ex, "_client", None)  # distributed.ClientExecutor keeps its client here
            address = getattr(getattr(client, "scheduler", None), "address", None)
            if address:
                scheduler, backend = address, "dask"
        for s in sx.strategies:
            cb: Any = progress is True
            if callable(progress):
                name = s.name

                def cb(done: int, total: int, _name: str = name) -> None:
                    progress(_name, done, total)  # type: ignore[operator]

            results[s.name] = run_sweep(
                sx.experiment_for(s),
                strategy_dir(out, s.name),
                workers=workers,
                scheduler=scheduler,
                backend=backend,
                engine=engine,
                progress=cb,
            )
    return StrategyRunResult(out=out, results=results)


# --------------------------------------------------------------------------
# Reading back


def is_strategy_dir(path: Path | str) -> bool:
    """True for a directory written by :func:`run_strategies`."""
    return (Path(path) / STRATEGIES_MANIFEST).is_file()


def load_strategy_results(
    out: Path | str, *, require_complete: bool = True
) -> tuple[dict[str, Any], pd.DataFrame]:
    """The manifest and the tidy per-run rows of every strategy.

    Returns
    -------
    manifest : dict
        The ``_strategies.json`` contents.
    frame : pandas.DataFrame
        Columns ``strategy``, ``future`` (the future's index, the same under
        every strategy), ``replicate``, ``run``, ``point``, the uncertainties,
        one column per lever (the strategy's resolved value) and the outputs;
        series sweeps keep their ``step`` column.

    Raises
    ------
    UserError
        Not a strategy directory, or a strategy's sweep is unfinished.
    """
    from civsim.experiments.results import load_results

    root = Path(out)
    try:
        manifest = json.loads((root / STRATEGIES_MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(
            f"{root}: not a strategy results directory (no {STRATEGIES_MANIFEST}); "
            f"run `civsim sweep STRATEGY_EXPERIMENT --out {root}`"
        ) from None
    except (OSError, ValueError) as exc:
        raise UserError(f"{root / STRATEGIES_MANIFEST}: cannot read the manifest: {exc}") from None
    frames = []
    levers = manifest.get("levers", [])
    for s in manifest["strategies"]:
        sub = strategy_dir(root, s["name"])
        if not sub.is_dir():
            raise UserError(
                f"{root}: strategy {s['name']!r} has not run yet; "
                f"finish it with `civsim sweep {manifest.get('experiment', 'EXPERIMENT')} --out {root}`"
            )
        try:
            sub_manifest, frame = load_results(sub, require_complete=require_complete)
        except UserError as exc:
            if "unfinished" not in str(exc):
                raise
            raise UserError(
                f"{root}: strategy {s['name']!r} is unfinished; finish it with "
                f"`civsim sweep {manifest.get('experiment', 'EXPERIMENT')} --out {root}`"
            ) from None
        base = sub_manifest["identity"]["base"]
        frame = frame.copy()
        frame.insert(0, "strategy", s["name"])
        frame.insert(1, "future", frame["point"].astype("int64"))
        for lever in levers:
            if lever in base and lever not in frame.columns:
                frame[lever] = base[lever]
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return manifest, table
