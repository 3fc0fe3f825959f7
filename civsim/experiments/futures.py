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

The parts: :mod:`~civsim.experiments.strategy_types` (what a strategy experiment
is), :mod:`~civsim.experiments.strategy_spec` (reading its file) and
:mod:`~civsim.experiments.strategy_runs` (running and reading back); this module
re-exports them.

References
----------
Lempert, Popper and Bankes (2003), Shaping the Next One Hundred Years, RAND MR-1626.
Kwakkel (2017), Environmental Modelling & Software 96, 239-250 (EMA Workbench).
"""

from __future__ import annotations

from civsim.experiments.strategy_runs import (
    StrategyRunResult,
    is_strategy_dir,
    load_strategy_results,
    run_strategies,
    strategy_dir,
)
from civsim.experiments.strategy_spec import (
    is_strategy_data,
    load_any_experiment,
    load_strategy_experiment,
    parse_strategy_experiment,
    read_toml,
)
from civsim.experiments.strategy_types import FORMAT, STRATEGIES_MANIFEST, Strategy, StrategyExperiment

__all__ = [
    "FORMAT",
    "STRATEGIES_MANIFEST",
    "Strategy",
    "StrategyExperiment",
    "StrategyRunResult",
    "is_strategy_data",
    "is_strategy_dir",
    "load_any_experiment",
    "load_strategy_experiment",
    "load_strategy_results",
    "parse_strategy_experiment",
    "read_toml",
    "run_strategies",
    "strategy_dir",
]
