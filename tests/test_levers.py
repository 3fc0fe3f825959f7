"""One-lever-at-a-time files, effects against the baseline (fake engine), the noise flag, figures, CLI."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from fakes_paired import fake_engine
from typer.testing import CliRunner

from civsim.cli import app
from civsim.errors import UserError
from civsim.experiments.levers import run_levers, table, write_levers
from civsim.experiments.levers_spec import load_levers
from civsim.params import SCHEMA

REPO = Path(__file__).resolve().parent.parent

GOOD = """
[experiment]
kind = "levers"
name = "t"
seed = 9
steps = 4
blocks = 5
replicates = 3
values = 5

[params]
n_citizens = 200
needs_targeting = 0.5

[outcomes]
outcome_index = { column = "outcome_index", stat = "final" }
inclusion_gap = { column = "inclusion_gap" }

[levers]
outreach = {}
needs_targeting = {}
social_value_weight = {}
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "levers.toml"
    p.write_text(textwrap.dedent(text))
    return p


def test_values_span_the_schema_range_unless_narrowed(tmp_path):
    text = GOOD.replace(
        "social_value_weight = {}",
        "social_value_weight = {}\nnetwork_min_members = { range = [2, 30] }\nalliances_enabled = {}\n"
        "shock_kind = {}\nvoice_weight = { range = [0.0, 0.7] }\nmutual_aid = { values = [0.0, 1.0] }",
    )
    exp = load_levers(write(tmp_path, text))
    lv = {lever.name: lever for lever in exp.levers}
    assert lv["outreach"].values == (0.0, 0.25, 0.5, 0.75, 1.0)
    assert (lv["outreach"].low, lv["outreach"].high) == (SCHEMA["outreach"].min, SCHEMA["outreach"].max)
    assert lv["needs_targeting"].baseline == 0.5
    assert lv["network_min_members"].values == (2, 9, 16, 23, 30)
    assert lv["alliances_enabled"].values == (False, True)
    assert lv["shock_kind"].values == SCHEMA["shock_kind"].choices
    assert lv["voice_weight"].values[-1] == 0.7 and lv["mutual_aid"].values == (0.0, 1.0)
    # each point moves only its lever
    p = lv["outreach"].points[2]
    assert p["outreach"] == 0.5 and {k for k in p if p[k] != exp.resolved[k]} == {"outreach"}


BAD: list[tuple[str, str, list[str]]] = [
    ("kind", GOOD.replace('kind = "levers"', 'kind = "ablation"'), ["[experiment] kind", "'ablation'"]),
    ("values", GOOD.replace("values = 5", "values = 1"), ["[experiment] values", "integer in [2,"]),
    (
        "unknown",
        GOOD.replace("social_value_weight = {}", "social_value_weigt = {}"),
        ["unknown parameter 'social_value_weigt'"],
    ),
    (
        "structural",
        GOOD.replace("social_value_weight = {}", "n_citizens = {}"),
        ["[levers] n_citizens", "structural"],
    ),
    (
        "range",
        GOOD.replace("outreach = {}", "outreach = { range = [0.0, 2.0] }"),
        ["[levers] outreach.range[1]", "outreach = 2.0", "[0, 1]"],
    ),
    ("order", GOOD.replace("outreach = {}", "outreach = { range = [0.5, 0.5] }"), ["low must be below high"]),
    ("key", GOOD.replace("outreach = {}", "outreach = { rnge = [0, 1] }"), ["unknown key 'rnge'", "'range'"]),
    (
        "cross-rule",
        GOOD.replace("social_value_weight = {}", "voice_weight = {}"),
        ["[levers] voice_weight = 0.75", "voice_weight + need_weight", "narrow"],
    ),
    (
        "no-outcomes",
        GOOD.replace('outcome_index = { column = "outcome_index", stat = "final" }\n', "").replace(
            'inclusion_gap = { column = "inclusion_gap" }\n', ""
        ),
        ["[outcomes]", "missing"],
    ),
    (
        "bad-outcome",
        GOOD.replace('{ column = "inclusion_gap" }', '{ column = "inclusion" }'),
        ["[outcomes] inclusion_gap column", "unknown output column 'inclusion'"],
    ),
    ("no-levers", GOOD.split("[levers]")[0], ["[levers]", "missing"]),
    (
        "bad-param",
        GOOD.replace("needs_targeting = 0.5", "needs_targeting = -1"),
        ["[params]", "needs_targeting = -1"],
    ),
]


@pytest.mark.parametrize("case,text,words", BAD, ids=[b[0] for b in BAD])
def test_bad_files_give_one_line_and_exit_2(tmp_path, case, text, words):
    path = write(tmp_path, text)
    with pytest.raises(UserError) as info:
        load_levers(path)
    msg = str(info.value)
    assert "\n" not in msg and str(path) in msg
    for w in words:
        assert w in msg, f"{case}: {w!r} not in {msg!r}"
    res = CliRunner().invoke(app, ["levers", str(path), "--out", str(tmp_path / "out")])
    assert res.exit_code == 2 and res.stderr.strip().splitlines() == [f"error: {msg}"]


@pytest.fixture(scope="module")
def fake_result(tmp_path_factory):
    return run_levers(load_levers(write(tmp_path_factory.mktemp("lev"), GOOD)), engine=fake_engine)


def test_effects_against_the_baseline_value(fake_result):
    # fake: outcome = 0.5 + 0.1 outreach + seed noise; gap = 0.1 - 0.05 needs_targeting + seed noise
    eff = fake_result.effects
    for i, v in enumerate((0.0, 0.25, 0.5, 0.75, 1.0)):
        assert eff["outreach", i, "outcome_index"].effect == pytest.approx(0.1 * v, abs=1e-12)
        assert eff["outreach", i, "inclusion_gap"].effect == pytest.approx(0.0, abs=1e-12)
        assert eff["needs_targeting", i, "inclusion_gap"].effect == pytest.approx(
            -0.05 * (v - 0.5), abs=1e-12
        )
    assert eff["outreach", 4, "outcome_index"].excludes_zero
    assert 0.003 < fake_result.noise["outcome_index"] < 0.03


def test_levers_within_noise_are_flagged(fake_result):
    flagged = fake_result.noise_levers()
    assert flagged == {
        "outcome_index": ["needs_targeting", "social_value_weight"],
        "inclusion_gap": ["outreach", "social_value_weight"],
    }
    assert fake_result.noise_everywhere() == ["social_value_weight"]
    s = fake_result.lever_summary(fake_result.experiment.levers[0], "outcome_index")
    assert s["max_abs_effect"] == pytest.approx(0.1) and s["ratio"] > 1 and s["any_ci_excludes_zero"]


def test_outputs_figures_and_doc(fake_result, tmp_path):
    doc = tmp_path / "docs" / "levers.md"
    figs = tmp_path / "docs" / "experiments" / "t"
    paths = write_levers(fake_result, tmp_path / "out", doc=doc, figures=figs, command="civsim levers t")
    assert (figs / "levers_outcome_index.png").stat().st_size > 10_000
    assert (figs / "levers_inclusion_gap.png").is_file() and doc in paths
    text = doc.read_text()
    assert "![outcome_index](experiments/t/levers_outcome_index.png)" in text
    assert "| `social_value_weight` |" in text and "**within noise**" in text
    assert "Within noise at every value: `needs_targeting`, `social_value_weight`." in text
    assert "**Within noise for every outcome (2) at every value:** `social_value_weight`." in text
    assert "0 (baseline): +0.0000" in text  # outreach's baseline value is 0
    csv = pd.read_csv(tmp_path / "out" / "levers.csv")
    assert len(csv) == 3 * 5 * 2 and set(csv["outcome"]) == {"outcome_index", "inclusion_gap"}
    assert len(pd.read_csv(tmp_path / "out" / "runs.csv")) == len(fake_result.variants) * 15
    man = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert man["seeds"]["blocks"] == 5 and man["levers"]["outreach"]["values"] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert man["params"][man["baseline"]]["needs_targeting"] == 0.5
    pd.testing.assert_frame_equal(table(fake_result), table(fake_result))


def test_tiny_end_to_end_run_through_the_cli(tmp_path):
    text = GOOD.replace("values = 5", "values = 3").replace(
        "social_value_weight = {}\n", "austerity_rate = { range = [-0.1, 0.0] }\n"
    )
    path = write(tmp_path, text)
    res = CliRunner().invoke(
        app, ["levers", str(path), "--out", str(tmp_path / "out"), "--blocks", "2", "--replicates", "1", "-q"]
    )
    assert res.exit_code == 0, res.output
    csv = pd.read_csv(tmp_path / "out" / "levers.csv")
    cut = csv[(csv.lever == "austerity_rate") & (csv.outcome == "outcome_index")].set_index("value")
    # the baseline's own value runs the baseline's seeds: exactly no effect
    assert cut.loc[0.0, "effect"] == 0.0 and cut.loc[-0.1, "n_blocks"] == 2
    assert (tmp_path / "out" / "levers_outcome_index.png").is_file()


def test_shipped_lever_file_loads():
    exp = load_levers(REPO / "experiments" / "levers_oat.toml")
    assert exp.blocks >= 5 and len(exp.levers) >= 15
    assert set(exp.outcomes) == {"outcome_index", "inclusion_gap", "outcome_index_path", "inclusion_gap_path"}
    assert all(len(lv.values) == 5 for lv in exp.levers)
    contexts = (
        "levers_alliances",
        "levers_shock",
        "levers_inclusive",
        "levers_joined_up",
        "levers_social_value",
    )
    for context in contexts:
        ctx = load_levers(REPO / "experiments" / f"{context}.toml")
        assert ctx.blocks >= 5 and set(exp.outcomes) <= set(ctx.outcomes) and ctx.scenario
    assert {"shock_dip", "shock_regained"} <= set(
        load_levers(REPO / "experiments" / "levers_shock.toml").outcomes
    )
