"""Sensitivity analysis: the wiring gives known indices (Ishigami, a linear function)."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest

from civsim.errors import UserError
from civsim.experiments.designs import build_design
from civsim.experiments.runner import run_sweep
from civsim.experiments.sensitivity import analyse, morris_indices, sobol_indices, write_sensitivity
from civsim.experiments.spec import DesignSpec, Factor, load_experiment

# Ishigami (a = 7, b = 0.1) on [-pi, pi]^3: analytic first- and total-order indices
ISHIGAMI_S1 = np.array([0.3139, 0.4424, 0.0])
ISHIGAMI_ST = np.array([0.5576, 0.4424, 0.2437])


def ishigami(x: np.ndarray) -> np.ndarray:
    return np.sin(x[:, 0]) + 7.0 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_sobol_design_and_analysis_recover_ishigami_indices():
    fs = tuple(Factor(f"x{i}", "float", low=-np.pi, high=np.pi) for i in (1, 2, 3))
    d = build_design(fs, DesignSpec("sobol", samples=2048), seed=2026)
    # the design's points (not just its raw sample) carry the factor values
    x = np.array([[p["x1"], p["x2"], p["x3"]] for p in d.points])
    t = sobol_indices(d.problem, ishigami(x), seed=1)
    assert list(t["factor"]) == ["x1", "x2", "x3"]
    np.testing.assert_allclose(t["S1"], ISHIGAMI_S1, atol=0.05)
    np.testing.assert_allclose(t["ST"], ISHIGAMI_ST, atol=0.05)
    assert (t["S1_conf"] > 0).all() and (t["S1_conf"] < 0.1).all()
    # the analytic values lie inside (a slightly widened) interval
    assert (np.abs(t["ST"] - ISHIGAMI_ST) <= 2 * t["ST_conf"] + 0.01).all()


def test_sobol_with_second_order_sample():
    fs = tuple(Factor(f"x{i}", "float", low=-np.pi, high=np.pi) for i in (1, 2, 3))
    d = build_design(fs, DesignSpec("sobol", samples=1024, second_order=True), seed=5)
    t = sobol_indices(d.problem, ishigami(d.samples), second_order=True, seed=1)
    np.testing.assert_allclose(t["ST"], ISHIGAMI_ST, atol=0.06)


def test_morris_on_a_linear_function_gives_its_slopes():
    fs = tuple(Factor(f"x{i}", "float", low=0.0, high=1.0) for i in (1, 2, 3))
    d = build_design(fs, DesignSpec("morris", trajectories=10, levels=4), seed=3)
    y = 4.0 * d.samples[:, 0] - 2.0 * d.samples[:, 1]
    t = morris_indices(d.problem, d.samples, y, levels=4, seed=1)
    np.testing.assert_allclose(t["mu_star"], [4.0, 2.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(t["mu"], [4.0, -2.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(t["sigma"], [0.0, 0.0, 0.0], atol=1e-9)


def _sweep(tmp_path, design: str, engine: str = "toy"):
    p = tmp_path / "s.toml"
    p.write_text(
        textwrap.dedent(
            f"""
            [experiment]
            name = "sens"
            seed = 3
            steps = 36
            replicates = 2
            chunk_size = 64

            [params]
            n_citizens = 100

            [factors]
            austerity_rate = {{ range = [-0.1, 0.0] }}
            outreach = {{ range = [0.0, 1.0] }}
            voice_weight = {{ range = [0.0, 0.5] }}

            [design]
            {design}

            [output]
            metrics = ["budget", "engagement"]
            """
        )
    )
    out = tmp_path / "out"
    run_sweep(load_experiment(p), out, workers=1, engine=engine)
    return out


def test_sobol_sweep_end_to_end(tmp_path):
    """The toy engine's budget depends on austerity only; its engagement on outreach only."""
    out = _sweep(tmp_path, 'kind = "sobol"\nsamples = 64')
    res = write_sensitivity(analyse(out), out / "_sensitivity", title="sens")
    t = res.table.set_index(["metric", "factor"])
    assert t.loc[("final_budget", "austerity_rate"), "ST"] > 0.9
    assert abs(t.loc[("final_budget", "voice_weight"), "ST"]) < 0.05
    assert t.loc[("final_engagement", "outreach"), "ST"] > 0.8
    assert res.csv.is_file() and res.png.is_file() and res.png.stat().st_size > 10_000
    csv = pd.read_csv(res.csv)
    assert list(csv.columns) == ["metric", "factor", "S1", "S1_conf", "ST", "ST_conf"]
    assert len(pd.read_parquet(out)) == 64 * 5 * 2  # _sensitivity/ is invisible to readers


def test_morris_sweep_end_to_end(tmp_path):
    out = _sweep(tmp_path, 'kind = "morris"\ntrajectories = 8')
    res = analyse(out, ["final_budget"])
    t = res.table.set_index("factor")
    assert res.method == "morris"
    assert t.loc["austerity_rate", "mu_star"] > 10 * t.loc["voice_weight", "mu_star"]


def test_sensitivity_needs_a_sobol_or_morris_design(tmp_path):
    out = _sweep(tmp_path, 'kind = "lhs"\nsamples = 8')
    with pytest.raises(UserError, match="sensitivity indices need \\[design\\] kind = 'sobol' or 'morris'"):
        analyse(out)


def test_unknown_metric_is_refused(tmp_path):
    out = _sweep(tmp_path, 'kind = "morris"\ntrajectories = 4')
    with pytest.raises(UserError, match="--metric 'nope' is not allowed: expected one of"):
        analyse(out, ["nope"])


def test_cli_sensitivity_runs_the_experiment_then_analyses(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from civsim.experiments.commands import standalone_app

    out = _sweep(tmp_path, 'kind = "sobol"\nsamples = 16')
    res = CliRunner().invoke(standalone_app(), ["sensitivity", str(out), "-m", "final_budget"])
    assert res.exit_code == 0, res.output
    assert "austerity_rate" in res.stdout and (out / "_sensitivity" / "sensitivity.png").is_file()
    bad = CliRunner().invoke(standalone_app(), ["sensitivity", str(tmp_path)])
    assert bad.exit_code == 2 and "not a civsim sweep directory" in bad.stderr
