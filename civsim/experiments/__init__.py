"""Experiments: declarative sweeps, sensitivity analysis and reports.

An experiment file (``experiments/*.toml``) names a base scenario, factors,
a design, replicates, steps, outputs and a seed (:mod:`.spec`); a design
makes its points (:mod:`.designs`); the runner batches runs into chunks and
executes them in this process, a process pool or a Dask cluster
(:mod:`.runner`); each chunk is written atomically to a Parquet dataset with
a manifest, so interrupted sweeps resume (:mod:`.storage`); finished sweeps
give sensitivity indices (:mod:`.sensitivity`) and reports (:mod:`.report`).

Examples
--------
>>> from civsim.experiments import load_experiment, run_sweep   # doctest: +SKIP
>>> run_sweep(load_experiment("experiments/smoke.toml"), "runs/smoke", workers=1)
>>> import pandas as pd; df = pd.read_parquet("runs/smoke")
"""

from civsim.experiments.designs import Design, build_design
from civsim.experiments.report import make_report
from civsim.experiments.results import load_results, per_run_outputs
from civsim.experiments.runner import SweepInterrupted, SweepPlan, SweepResult, plan_sweep, run_sweep
from civsim.experiments.sensitivity import analyse, morris_indices, sobol_indices, write_sensitivity
from civsim.experiments.spec import Experiment, Factor, load_experiment

__all__ = [
    "Design",
    "Experiment",
    "Factor",
    "SweepInterrupted",
    "SweepPlan",
    "SweepResult",
    "analyse",
    "build_design",
    "load_experiment",
    "load_results",
    "make_report",
    "morris_indices",
    "per_run_outputs",
    "plan_sweep",
    "run_sweep",
    "sobol_indices",
    "write_sensitivity",
]
