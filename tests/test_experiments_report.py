"""Reports: one figure per output, bands across replicates, a Markdown summary."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd
import pytest

from civsim.errors import UserError
from civsim.experiments.report import effect_table, make_report
from civsim.experiments.results import load_results, per_run_outputs
from civsim.experiments.runner import run_sweep
from civsim.experiments.spec import load_experiment


def sweep(tmp_path: Path, output: str, design: str = 'kind = "grid"', factors: str | None = None) -> Path:
    p = tmp_path / "rep.toml"
    factors = factors or "austerity_rate = [0.0, -0.05, -0.1]\noutreach = [0.0, 0.5]"
    p.write_text(
        textwrap.dedent(
            f"""
            [experiment]
            name = "rep"
            description = "A report test."
            seed = 1
            steps = 24
            replicates = 3

            [params]
            n_citizens = 100

            [factors]
            {{factors}}

            [design]
            {design}

            [output]
            {output}
            """
        ).replace("{factors}", factors)
    )
    out = tmp_path / "out"
    run_sweep(load_experiment(p), out, workers=1, engine="toy")
    return out


def test_summary_report(tmp_path):
    out = sweep(tmp_path, 'metrics = ["budget", "engagement"]')
    res = make_report(out)
    names = sorted(p.name for p in res.figures)
    assert names == [
        "final_budget.png",
        "final_engagement.png",
        "heatmap_final_budget.png",
        "heatmap_final_engagement.png",
    ]
    assert all(p.stat().st_size > 10_000 for p in res.figures)
    md = res.markdown.read_text()
    assert md.startswith("# Sweep report: rep")
    assert "3 replicates = 18 runs of 24 steps" in md
    assert f"pd.read_parquet({str(out)!r})" in md
    assert "| final_budget | austerity_rate |" in md
    assert "![final_budget](final_budget.png)" in md
    assert len(pd.read_parquet(out)) == 18  # _report/ is invisible to readers


def test_effects_point_the_right_way(tmp_path):
    out = sweep(tmp_path, 'metrics = ["budget"]')
    manifest, frame = load_results(out)
    runs = per_run_outputs(manifest, frame)
    t = effect_table(manifest, runs, ["final_budget"]).set_index("factor")
    # deeper cuts (lowest austerity_rate) leave a smaller budget
    assert t.loc["austerity_rate", "at_low"] < t.loc["austerity_rate", "at_high"]
    assert t.loc["austerity_rate", "spread"] > 10 * t.loc["outreach", "spread"]


def test_series_report_has_time_courses(tmp_path):
    out = sweep(tmp_path, 'keep = "series"\nevery = 6\nmetrics = ["trust"]')
    manifest, frame = load_results(out)
    runs = per_run_outputs(manifest, frame)
    assert len(runs) == 18 and {"final_trust", "mean_trust"} <= set(runs.columns)
    last = frame[frame["step"] == 24].set_index("run")["trust"]
    assert (runs.set_index("run")["final_trust"] == last).all()
    res = make_report(out, tmp_path / "elsewhere", ["final_trust"])
    assert sorted(p.name for p in res.figures) == [
        "final_trust.png",
        "heatmap_final_trust.png",
        "series_trust.png",
    ]
    assert res.markdown.parent == tmp_path / "elsewhere"


def test_sampled_factors_are_binned(tmp_path):
    out = sweep(
        tmp_path,
        'metrics = ["budget"]',
        design='kind = "lhs"\nsamples = 40',
        factors="austerity_rate = { range = [-0.1, 0.0] }\noutreach = { range = [0.0, 1.0] }",
    )
    res = make_report(out)
    assert [p.name for p in res.figures] == ["final_budget.png"]
    assert "deciles" in res.markdown.read_text()


def test_report_refuses_unfinished_or_unknown(tmp_path):
    out = sweep(tmp_path, 'metrics = ["budget"]')
    with pytest.raises(UserError, match="--metric 'final_nope' is not allowed"):
        make_report(out, outputs=["final_nope"])
    next(out.glob("part-*.parquet")).unlink()
    with pytest.raises(
        UserError, match=r"the sweep is unfinished \(4 of 5 chunks\); finish it with `civsim sweep"
    ):
        make_report(out)
    with pytest.raises(UserError, match="no such results directory"):
        make_report(tmp_path / "nothing")


def test_cli_report(tmp_path):
    from typer.testing import CliRunner

    from civsim.experiments.commands import standalone_app

    out = sweep(tmp_path, 'metrics = ["budget"]')
    res = CliRunner().invoke(standalone_app(), ["report", str(out)])
    assert res.exit_code == 0, res.output
    assert "wrote 2 figures" in res.stdout
    assert (out / "_report" / "summary.md").is_file()
