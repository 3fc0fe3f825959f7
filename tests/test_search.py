"""``civsim search``: a Pareto set of lever settings over fixed futures (toy engine)."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from typer.testing import CliRunner

from civsim.cli import app
from civsim.errors import UserError
from civsim.experiments.search import _Evaluator, search_levers

FILE = """
[experiment]
name = "sr"
seed = 3
steps = 12
replicates = 1

[params]
n_citizens = 100
n_neighbourhoods = 2
n_agencies = 4

[uncertainties]
austerity_rate = { range = [-0.1, 0.0] }

[design]
kind = "lhs"
samples = 5

[strategies.status_quo]

[levers]
outreach = { range = [0.0, 1.0] }
convening_funds = { range = [0.0, 0.1] }
"""


def dominates(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.all(a <= b) and np.any(a < b))


def test_pareto_set_is_non_dominated_and_within_the_ranges(tmp_path):
    p = tmp_path / "sr.toml"
    p.write_text(textwrap.dedent(FILE))
    res = search_levers(p, n_futures=3, generations=3, population=8, engine="toy", seed=1)
    assert res.objectives == ["outcome_index", "inclusion_gap", "spend"]
    assert len(res.evaluated) == 24 and len(res.futures) == 3
    par = res.pareto
    assert par["outreach"].between(0, 1).all() and par["convening_funds"].between(0, 0.1).all()
    assert np.allclose(par["spend"], par["convening_funds"])  # the only spend lever here
    F = np.c_[-par["outcome_index"], par["inclusion_gap"], par["spend"]]
    for i in range(len(F)):
        assert not any(dominates(F[j], F[i]) for j in range(len(F)) if j != i)
    # nothing evaluated dominates a member of the Pareto set
    E = np.c_[-res.evaluated["outcome_index"], res.evaluated["inclusion_gap"], res.evaluated["spend"]]
    for f in F:
        assert not any(dominates(e, f) for e in E)


def test_candidates_meet_the_same_futures_with_the_same_seeds(tmp_path):
    from civsim.experiments.designs import build_design
    from civsim.experiments.futures import load_strategy_experiment

    p = tmp_path / "sr.toml"
    p.write_text(textwrap.dedent(FILE))
    sx = load_strategy_experiment(p)
    futures = build_design(sx.base.factors, sx.base.design, sx.base.seed).points[:3]
    ev = _Evaluator(sx, futures, 2, "toy", None)
    X = np.array([[0.5, 0.02], [0.5, 0.02], [0.5, 0.08]])
    F = ev(X)
    assert np.array_equal(F[0], F[1])  # deterministic given the levers
    # the toy ignores convening money: the same outcomes, only the spend differs
    assert np.array_equal(F[0][:2], F[2][:2]) and F[2][2] > F[0][2]
    task = ev.task(0, X[0])[1]
    assert [(fi, r) for _, fi, r in task.runs] == [(f, r) for f in range(3) for r in range(2)]


def test_no_levers_is_one_line_exit_2(tmp_path):
    p = tmp_path / "sr.toml"
    p.write_text(textwrap.dedent(FILE).split("[levers]")[0])
    with pytest.raises(UserError, match=r"\[levers\]: missing"):
        search_levers(p, engine="toy")
    res = CliRunner().invoke(app, ["search", str(p), "--engine", "toy"])
    assert res.exit_code == 2 and len(res.stderr.strip().splitlines()) == 1


def test_cli_writes_the_pareto_files(tmp_path):
    p = tmp_path / "sr.toml"
    p.write_text(textwrap.dedent(FILE))
    out = tmp_path / "o"
    res = CliRunner().invoke(
        app,
        [
            "search",
            str(p),
            "--engine",
            "toy",
            "--futures",
            "2",
            "--generations",
            "2",
            "--population",
            "6",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    for name in ("pareto.csv", "evaluated.csv", "pareto_strategies.toml", "pareto.png"):
        assert (out / name).is_file()
    # the suggested strategies parse as strategy tables
    import tomllib

    doc = tomllib.loads((out / "pareto_strategies.toml").read_text())
    assert all(set(t) >= {"description", "outreach", "convening_funds"} for t in doc["strategies"].values())
