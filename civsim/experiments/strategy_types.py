"""What a strategy experiment is: named :class:`Strategy` lever settings in sampled futures.

Read from a file by :mod:`civsim.experiments.strategy_spec`; run and read back by
:mod:`civsim.experiments.strategy_runs` (see :mod:`civsim.experiments.futures`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from civsim.errors import UserError
from civsim.experiments.spec import Experiment, Factor


def _hint(name: str, allowed: list[str] | tuple[str, ...]) -> str:
    """`` (did you mean 'x'?)`` for a close match, else ``""``."""
    import difflib

    close = difflib.get_close_matches(name, list(allowed), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


STRATEGIES_MANIFEST = "_strategies.json"
"""Top-level manifest of a strategy results directory."""

FORMAT = "civsim-strategies/1"


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
