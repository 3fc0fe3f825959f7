"""Search lever settings that trade off outcomes, inclusion and cost (``civsim search``).

Many-objective evolutionary search (pymoo's NSGA-II, Deb et al. 2002, or
NSGA-III, Deb and Jain 2014) over the ``[levers]`` ranges of a strategy
experiment, robust over a fixed set of futures: the first ``n_futures``
points of the experiment's own design. Every candidate lever setting runs
in each of those futures and replicates with the seeds a strategy sweep
would use, ``SeedSequence(seed, spawn_key=(future, replicate))``, so all
candidates meet the same futures with the same luck (paired), and a
candidate's objectives are a deterministic function of its levers.

Objectives (pymoo minimises; signs flipped where needed):

- the mean final outcome index over futures and replicates (maximised);
- the mean final inclusion gap (minimised);
- the lever spend (minimised): the share of the council budget the levers
  spend a year, ``convening_funds + network_grants`` -- only when at least
  one of them is a lever; otherwise the search has two objectives.

Candidates are evaluated in chunks through the sweep runner's
:func:`civsim.experiments.runner.run_chunk`, in this process or on a
process pool / Dask cluster. A search is not resumable: it is meant to be
short; test the Pareto set's settings across all futures afterwards by
pasting ``pareto_strategies.toml`` into the experiment.

References
----------
Deb, Pratap, Agarwal and Meyarivan (2002), IEEE TEVC 6(2), 182-197.
Deb and Jain (2014), IEEE TEVC 18(4), 577-601.
Blank and Deb (2020), pymoo, IEEE Access 8, 89497-89509.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer

from civsim import params as schema
from civsim.errors import UserError

SPEND_LEVERS: tuple[str, ...] = ("convening_funds", "network_grants")
"""Levers that are shares of the council budget spent a year."""

ALGORITHMS: tuple[str, ...] = ("nsga2", "nsga3")


@dataclass
class SearchResult:
    """What :func:`search_levers` found.

    Attributes
    ----------
    pareto : pandas.DataFrame
        Non-dominated lever settings: lever columns, then ``outcome_index``,
        ``inclusion_gap`` and (if any spend lever) ``spend``.
    evaluated : pandas.DataFrame
        Every candidate evaluated, with its ``generation``.
    objectives : list of str
        Objective column names.
    futures : list of dict
        The futures searched over.
    """

    pareto: pd.DataFrame
    evaluated: pd.DataFrame
    objectives: list[str]
    futures: list[dict[str, Any]]


class _Evaluator:
    """Runs candidates in the fixed futures and returns their objectives."""

    def __init__(self, sx, futures: list[dict[str, Any]], replicates: int, engine: str, executor) -> None:  # noqa: ANN001
        self.sx, self.futures, self.replicates = sx, futures, replicates
        self.engine, self.executor = engine, executor
        self.levers = [f.name for f in sx.levers]
        self.spend = [n for n in self.levers if n in SPEND_LEVERS]
        self.rows: list[dict[str, Any]] = []
        self.generation = 0

    def task(self, i: int, x: np.ndarray):  # noqa: ANN201 - ChunkTask
        from civsim.experiments.runner import ChunkTask

        levers = {}
        for f, v in zip(self.sx.levers, x, strict=True):
            levers[f.name] = int(round(v)) if f.type == "int" else float(v)
        runs, params, points = [], [], []
        for fi, point in enumerate(self.futures):
            try:
                resolved = schema.resolve({**self.sx.base.base, **point, **levers})
            except schema.ParamError as exc:
                raise UserError(f"{self.sx.base.path}: lever setting {levers}: {exc}") from None
            for r in range(self.replicates):
                runs.append((len(runs), fi, r))
                params.append(resolved)
                points.append(point)
        return levers, ChunkTask(
            chunk=i,
            engine=self.engine,
            seed=self.sx.base.seed,
            steps=self.sx.base.steps,
            runs=tuple(runs),
            params=tuple(params),
            factors=tuple(points),
            factor_names=(),
            keep="summary",
            metrics=("outcome_index", "inclusion_gap"),
            every=1,
        )

    def __call__(self, X: np.ndarray) -> np.ndarray:
        from civsim.experiments.runner import run_chunk

        made = [self.task(i, x) for i, x in enumerate(X)]
        if self.executor is None:
            tables = [run_chunk(t).table for _, t in made]
        else:
            futs = [self.executor.submit(run_chunk, t) for _, t in made]
            tables = [f.result().table for f in futs]
        F = []
        for (levers, _), table in zip(made, tables, strict=True):
            df = table.to_pandas()
            row = {
                **levers,
                "generation": self.generation,
                "outcome_index": float(df["final_outcome_index"].mean()),
                "inclusion_gap": float(df["final_inclusion_gap"].mean()),
            }
            obj = [-row["outcome_index"], row["inclusion_gap"]]
            if self.spend:
                row["spend"] = float(sum(levers[n] for n in self.spend))
                obj.append(row["spend"])
            self.rows.append(row)
            F.append(obj)
        self.generation += 1
        return np.asarray(F, dtype=float)


def search_levers(
    experiment: str | Path,
    *,
    n_futures: int = 16,
    generations: int = 10,
    population: int = 24,
    replicates: int = 1,
    algorithm: str = "nsga2",
    seed: int = 0,
    workers: int = 1,
    engine: str = "batch",
    progress=None,  # noqa: ANN001 - callable(generation, generations)
) -> SearchResult:
    """Search the experiment's ``[levers]`` for the Pareto set of lever settings.

    Raises
    ------
    UserError
        No ``[levers]`` table, or bad settings.
    """
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.algorithms.moo.nsga3 import NSGA3
    from pymoo.core.problem import Problem
    from pymoo.optimize import minimize
    from pymoo.util.ref_dirs import get_reference_directions

    from civsim.experiments.designs import build_design
    from civsim.experiments.executors import open_executor
    from civsim.experiments.futures import load_strategy_experiment

    sx = load_strategy_experiment(experiment)
    if not sx.levers:
        raise UserError(
            f"{sx.base.path}: [levers]: missing: name the lever ranges to search, "
            "e.g. convening_funds = { range = [0.0, 0.06] }"
        )
    if algorithm not in ALGORITHMS:
        raise UserError(f"--algorithm {algorithm!r} is not allowed: expected nsga2 or nsga3")
    for name, v, lo in (
        ("--futures", n_futures, 1),
        ("--generations", generations, 1),
        ("--population", population, 4),
        ("--replicates", replicates, 1),
    ):
        if v < lo:
            raise UserError(f"{name} {v} is not allowed: expected an integer >= {lo}")
    design = build_design(sx.base.factors, sx.base.design, sx.base.seed)
    futures = design.points[:n_futures]
    xl = np.array([f.low for f in sx.levers], dtype=float)
    xu = np.array([f.high for f in sx.levers], dtype=float)
    backend = "inline" if workers <= 1 else "dask"
    with open_executor(backend, workers) as ex:
        ev = _Evaluator(sx, futures, replicates, engine, ex)
        n_obj = 3 if ev.spend else 2

        class LeverProblem(Problem):
            def _evaluate(self, X, out, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, N803
                out["F"] = ev(X)
                if progress is not None:
                    progress(ev.generation, generations)

        problem = LeverProblem(n_var=len(xl), n_obj=n_obj, xl=xl, xu=xu)
        if algorithm == "nsga2":
            algo = NSGA2(pop_size=population)
        else:
            ref = get_reference_directions(
                "das-dennis", n_obj, n_partitions=max(2, population // (2 * n_obj))
            )
            algo = NSGA3(ref_dirs=ref, pop_size=max(population, len(ref)))
        res = minimize(problem, algo, ("n_gen", generations), seed=seed, verbose=False)
    evaluated = pd.DataFrame(ev.rows)
    objectives = ["outcome_index", "inclusion_gap"] + (["spend"] if ev.spend else [])
    X = np.atleast_2d(res.X)
    pareto = pd.DataFrame(X, columns=ev.levers)
    for f in sx.levers:
        if f.type == "int":
            pareto[f.name] = pareto[f.name].round().astype(int)
    F = np.atleast_2d(res.F)
    pareto["outcome_index"] = -F[:, 0]
    pareto["inclusion_gap"] = F[:, 1]
    if ev.spend:
        pareto["spend"] = F[:, 2]
    pareto = pareto.sort_values("outcome_index", ascending=False).reset_index(drop=True)
    return SearchResult(pareto, evaluated, objectives, futures)


def write_search(result: SearchResult, out: Path, experiment_name: str) -> list[Path]:
    """Write ``pareto.csv``, ``evaluated.csv``, ``pareto_strategies.toml`` and ``pareto.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    result.pareto.to_csv(out / "pareto.csv", index=False)
    result.evaluated.to_csv(out / "evaluated.csv", index=False)
    levers = [c for c in result.pareto.columns if c not in result.objectives]
    toml = [f"# Pareto set of `civsim search {experiment_name}`: paste into the experiment's strategies", ""]
    for i, row in result.pareto.iterrows():
        objs = ", ".join(f"{k} {row[k]:.4f}" for k in result.objectives)
        toml += [f"[strategies.pareto_{i + 1}]", f'description = "Pareto setting {i + 1}: {objs}"']
        toml += [
            f"{k} = {row[k]:.6g}" if isinstance(row[k], float) else f"{k} = {row[k]}" for k in levers
        ] + [""]
    (out / "pareto_strategies.toml").write_text("\n".join(toml), encoding="utf-8")
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ev = result.evaluated
    ax.scatter(ev["inclusion_gap"], ev["outcome_index"], s=8, color="lightgrey", label="evaluated")
    c = result.pareto["spend"] if "spend" in result.pareto else "C3"
    sc = ax.scatter(
        result.pareto["inclusion_gap"],
        result.pareto["outcome_index"],
        c=c,
        s=30,
        cmap="viridis",
        edgecolors="k",
        label="Pareto set",
    )
    if "spend" in result.pareto:
        fig.colorbar(sc, ax=ax, label="lever spend (share of council budget)")
    ax.set_xlabel("mean final inclusion gap (lower is better)")
    ax.set_ylabel("mean final outcome index (higher is better)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "pareto.png", dpi=120)
    plt.close(fig)
    return [out / "pareto.csv", out / "evaluated.csv", out / "pareto_strategies.toml", out / "pareto.png"]


def search(
    experiment: Annotated[str, typer.Argument(help="A strategy experiment file with a [levers] table.")],
    futures: Annotated[
        int, typer.Option("--futures", help="Search over the first N futures of the design.")
    ] = 16,
    generations: Annotated[int, typer.Option(help="Generations.")] = 10,
    population: Annotated[int, typer.Option(help="Population size.")] = 24,
    replicates: Annotated[int, typer.Option(help="Replicates per future.")] = 1,
    algorithm: Annotated[str, typer.Option(help="nsga2 or nsga3.")] = "nsga2",
    seed: Annotated[int, typer.Option(min=0, help="Seed of the evolutionary algorithm.")] = 0,
    workers: Annotated[int, typer.Option("--workers", "-w", min=1, help="Worker processes (Dask).")] = 1,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output folder (default: runs/<name>_search).")
    ] = None,
    engine: Annotated[str, typer.Option(hidden=True, help="batch (or toy, for tests).")] = "batch",
) -> None:
    """Many-objective search (NSGA-II/III) of lever settings: outcome index, inclusion gap and spend."""
    from civsim.experiments.commands import _guard

    with _guard():

        def tick(g: int, n: int) -> None:
            if sys.stderr.isatty():
                typer.echo(f"\rgeneration {g}/{n}", err=True, nl=g >= n)

        res = search_levers(
            experiment,
            n_futures=futures,
            generations=generations,
            population=population,
            replicates=replicates,
            algorithm=algorithm,
            seed=seed,
            workers=workers,
            engine=engine,
            progress=tick,
        )
        name = Path(experiment).stem
        paths = write_search(res, out or Path("runs") / f"{name}_search", name)
        typer.echo(
            f"{len(res.evaluated)} candidates x {len(res.futures)} futures; Pareto set: {len(res.pareto)} "
            f"lever settings ({', '.join(res.objectives)})"
        )
        typer.echo(res.pareto.head(10).to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        typer.echo(f"wrote {', '.join(str(p) for p in paths)}")
