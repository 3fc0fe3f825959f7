"""Strategy experiments: uncertainties x strategies, paired seeds, resume, one-line errors.

Runs use the toy engine (tests/ does not depend on the model's numbers):
it reads austerity_rate, outreach, participation_barrier, ... and ignores
convening_funds and network_grants, so two strategies differing only in
those must give identical rows when their seeds are paired.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from civsim.cli import app
from civsim.errors import UserError
from civsim.experiments.futures import (
    StrategyExperiment,
    load_any_experiment,
    load_strategy_experiment,
    load_strategy_results,
    run_strategies,
    strategy_dir,
)
from civsim.experiments.runner import plan_sweep

BASE = """
[experiment]
name = "sx"
seed = 11
steps = 12
replicates = 2
chunk_size = 4

[params]
n_citizens = 120
n_neighbourhoods = 2
n_agencies = 4
"""

GOOD = (
    BASE
    + """
[uncertainties]
austerity_rate = { range = [-0.1, 0.0] }
participation_barrier = { range = [0.0, 0.5] }

[design]
kind = "lhs"
samples = 6

[strategies.status_quo]
[strategies.convening]
description = "Money for convening partnerships."
convening_funds = 0.1
[strategies.grants]
network_grants = 0.1
[strategies.outreach]
outreach = 0.7

[levers]
outreach = { range = [0.0, 1.0] }
"""
)


def write(tmp_path: Path, text: str, name: str = "sx.toml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def test_parses_futures_strategies_and_levers(tmp_path):
    sx = load_strategy_experiment(write(tmp_path, GOOD))
    assert isinstance(sx, StrategyExperiment)
    assert sx.uncertainties == ("austerity_rate", "participation_barrier")
    assert [s.name for s in sx.strategies] == ["status_quo", "convening", "grants", "outreach"]
    assert sx.strategy("convening").levers == {"convening_funds": 0.1}
    assert sx.strategy("convening").description.startswith("Money")
    assert sx.lever_names == ("convening_funds", "network_grants", "outreach")
    exp = sx.experiment_for("outreach")
    assert exp.base["outreach"] == 0.7 and exp.base["n_citizens"] == 120
    assert isinstance(load_any_experiment(write(tmp_path, GOOD)), StrategyExperiment)


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (
            ("convening_funds = 0.1", "conveningfunds = 0.1"),
            "[strategies.convening] conveningfunds: unknown parameter",
        ),
        (("outreach = 0.7", "austerity_rate = -0.05"), "austerity_rate is an uncertainty"),
        (("outreach = 0.7", "outreach = 7.0"), "outreach = 7.0 is not allowed"),
        (("[strategies.grants]", '[strategies."bad name"]'), "the name 'bad name' is not allowed"),
        (
            ("austerity_rate = { range", "austerity_rat = { range"),
            "[uncertainties] austerity_rat: unknown parameter",
        ),
        (("[uncertainties]", "[factors]"), "rename [factors] to [uncertainties]"),
        (
            ('kind = "lhs"\nsamples = 6', 'kind = "morris"\ntrajectories = 4'),
            "'morris' is not allowed for futures",
        ),
        (("outreach = { range = [0.0, 1.0] }", "outreach = [0.1, 0.2]"), "[levers] outreach: give range"),
        (
            ("outreach = { range = [0.0, 1.0] }", "participation_barrier = { range = [0.0, 1.0] }"),
            "[levers] participation_barrier: participation_barrier is an uncertainty",
        ),
    ],
)
def test_bad_files_give_one_line(tmp_path, change, needle):
    text = textwrap.dedent(GOOD)
    assert change[0] in text
    path = write(tmp_path, text.replace(change[0], change[1], 1))
    with pytest.raises(UserError) as info:
        load_strategy_experiment(path)
    msg = str(info.value)
    assert needle in msg and "\n" not in msg and str(path) in msg


def test_no_strategies_or_no_design_is_refused(tmp_path):
    text = textwrap.dedent(GOOD)
    no_strat = text[: text.index("[strategies.status_quo]")]
    with pytest.raises(UserError, match=r"\[strategies\]: missing"):
        load_strategy_experiment(write(tmp_path, no_strat))
    no_design = text.replace('[design]\nkind = "lhs"\nsamples = 6\n', "")
    with pytest.raises(UserError, match=r"\[design\]: missing"):
        load_strategy_experiment(write(tmp_path, no_design, "b.toml"))


def test_every_strategy_runs_in_every_future_with_paired_seeds(tmp_path):
    sx = load_strategy_experiment(write(tmp_path, GOOD))
    res = run_strategies(sx, tmp_path / "out", workers=1, engine="toy")
    assert res.n_runs == res.runs_run == 4 * 6 * 2
    _, df = load_strategy_results(tmp_path / "out")
    assert len(df) == 48 and list(df.columns[:2]) == ["strategy", "future"]
    assert set(df.groupby("strategy")["future"].nunique()) == {6}
    # the same future has the same uncertainty values under every strategy
    unc = df.groupby(["future"])[["austerity_rate", "participation_barrier"]].nunique()
    assert (unc == 1).all().all()
    # lever columns carry each strategy's value
    assert set(df.loc[df.strategy == "outreach", "outreach"]) == {0.7}
    assert set(df.loc[df.strategy == "status_quo", "outreach"]) == {0.0}
    # seeds are paired: strategies differing only in levers the toy ignores give identical rows
    key = ["future", "replicate"]
    a = df[df.strategy == "status_quo"].sort_values(key).reset_index(drop=True)
    for other in ("convening", "grants"):
        b = df[df.strategy == other].sort_values(key).reset_index(drop=True)
        pd.testing.assert_series_equal(a["final_outcome_index"], b["final_outcome_index"])
    # ... while different replicates of a future differ (the noise is real)
    assert a.groupby("future")["final_outcome_index"].nunique().min() == 2
    # and the seed of (future, replicate) is the same in every strategy's plan
    plans = [plan_sweep(sx.experiment_for(s), engine="toy") for s in sx.strategies]
    for run in range(plans[0].n_runs):
        states = {p.seed_of(run).generate_state(2).tobytes() for p in plans}
        assert len(states) == 1


def test_resume_runs_only_what_is_missing_and_refuses_a_changed_file(tmp_path):
    path = write(tmp_path, GOOD)
    sx = load_strategy_experiment(path)
    out = tmp_path / "out"
    run_strategies(sx, out, workers=1, engine="toy")
    before = {p: p.read_bytes() for p in sorted(out.rglob("part-*.parquet"))}
    victim = sorted(strategy_dir(out, "grants").glob("part-*.parquet"))[1]
    victim.unlink()
    again = run_strategies(sx, out, workers=1, engine="toy")
    assert again.runs_run == 4 and again.results["grants"].chunks_run == 1
    assert all(r.runs_run == 0 for n, r in again.results.items() if n != "grants")
    after = {p: p.read_bytes() for p in sorted(out.rglob("part-*.parquet"))}
    assert after == before  # the rerun chunk is bit-identical
    changed = load_strategy_experiment(
        write(tmp_path, GOOD.replace("outreach = 0.7", "outreach = 0.8"), "c.toml")
    )
    with pytest.raises(UserError, match="holds results of a different strategy experiment") as info:
        run_strategies(changed, out, workers=1, engine="toy")
    assert "strategies" in str(info.value)


def test_sweep_discover_and_robust_through_the_cli(tmp_path):
    path = write(tmp_path, GOOD)
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["sweep", str(path), "--out", str(out), "-w", "1", "--engine", "toy", "-q"])
    assert r.exit_code == 0, r.output
    assert "4 strategies x 6 futures x 2 replicates" in r.output
    assert pd.read_parquet(out)["strategy"].nunique() == 4  # the folders are Hive partitions
    r = CliRunner().invoke(app, ["robust", str(out), "--metric", "final_outcome_index", "--boot", "20"])
    assert r.exit_code == 0, r.output
    table = pd.read_csv(out / "_robust_final_outcome_index" / "robustness.csv")
    assert list(table["strategy"]) == ["status_quo", "convening", "grants", "outreach"]
    assert np.isclose(table["max_regret"].min(), 0.0)
    med = float(pd.read_parquet(out)["final_outcome_index"].median())
    r = CliRunner().invoke(
        app, ["discover", str(out), "--metric", "final_outcome_index", "--below", f"{med}"]
    )
    assert r.exit_code == 2 and "choose one with --strategy NAME" in r.stderr
    r = CliRunner().invoke(
        app,
        [
            "discover",
            str(out),
            "--strategy",
            "status_quo",
            "--metric",
            "final_outcome_index",
            "--below",
            "0.0",
        ],
    )
    assert r.exit_code == 2 and "no row has final_outcome_index below 0" in r.stderr
    r = CliRunner().invoke(
        app, ["discover", str(out), "--strategy", "nope", "--metric", "final_outcome_index", "--below", "0.5"]
    )
    assert r.exit_code == 2 and "--strategy 'nope' is not in the results" in r.stderr


def test_dask_backend_writes_the_same_results(tmp_path):
    sx = load_strategy_experiment(write(tmp_path, GOOD))
    run_strategies(sx, tmp_path / "inline", workers=1, engine="toy")
    run_strategies(sx, tmp_path / "dask", workers=2, backend="dask", engine="toy")
    a = {p.relative_to(tmp_path / "inline"): p.read_bytes() for p in (tmp_path / "inline").rglob("part-*")}
    b = {p.relative_to(tmp_path / "dask"): p.read_bytes() for p in (tmp_path / "dask").rglob("part-*")}
    assert a == b and len(a) > 4


def test_strategy_report_is_generated_from_the_runs(tmp_path):
    from civsim.experiments.robustness import robustness
    from civsim.experiments.writeup import write_strategy_report

    sx = load_strategy_experiment(write(tmp_path, GOOD))
    out = tmp_path / "out"
    run_strategies(sx, out, workers=1, engine="toy")
    md = write_strategy_report(out, tmp_path / "doc", n_boot=20)
    text = md.read_text()
    for s in ("status_quo", "convening", "grants", "outreach"):
        assert f"### {s}" in text
    _, df = load_strategy_results(out)
    med = df[df.strategy == "status_quo"].groupby("future")["final_outcome_index"].mean().median()
    r = robustness(df, "final_outcome_index", threshold=float(med), n_boot=0)
    row = r.table.set_index("strategy").loc["outreach"]
    assert f"| outreach | {row['mean']:.3f} [" in text
    assert f"Threshold {med:.3f}" in text
    assert (tmp_path / "doc" / "robustness_final_outcome_index.png").stat().st_size > 1000
    res = CliRunner().invoke(app, ["strategy-report", str(tmp_path / "nope")])
    assert res.exit_code == 2 and len(res.stderr.strip().splitlines()) == 1


def test_unfinished_results_say_how_to_finish(tmp_path):
    sx = load_strategy_experiment(write(tmp_path, GOOD))
    out = tmp_path / "out"
    run_strategies(sx, out, workers=1, engine="toy")
    sorted(strategy_dir(out, "convening").glob("part-*.parquet"))[0].unlink()
    with pytest.raises(
        UserError, match=r"strategy 'convening' is unfinished; finish it with `civsim sweep .*sx.toml --out"
    ):
        load_strategy_results(out)
    r = CliRunner().invoke(app, ["robust", str(out), "--metric", "final_outcome_index"])
    assert r.exit_code == 2 and "is unfinished" in r.stderr
