"""Ablation files, the ablation runner (with a fake engine) and a tiny end-to-end run of `civsim ablation`."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fakes_paired import SeedLog, fake_engine
from typer.testing import CliRunner

from civsim.cli import app
from civsim.errors import UserError
from civsim.experiments.ablation import markdown, run_ablation, table, write_ablation
from civsim.experiments.ablation_spec import load_ablation
from civsim.experiments.paired import run_variants

REPO = Path(__file__).resolve().parent.parent

GOOD = """
[experiment]
kind = "ablation"
name = "t"
seed = 5
steps = 6
blocks = 5
replicates = 2

[params]
n_citizens = 200

[[pattern]]
name = "outreach_lifts"
claim = "Outreach lifts outcomes through networks."
reference = { params = { outreach = 0.0 } }
treatment = { params = { outreach = 0.5 } }
metric = { column = "outcome_index", stat = "final" }
expect = "increase"
margin = 0.01
[pattern.ablations]
no_networks = { networks_enabled = false }
no_mutual_aid = { mutual_aid = 0.0 }

[[pattern]]
name = "outreach_gap"
claim = "Outreach narrows the engagement gap between groups."
reference = { params = { outreach = 0.0 } }
treatment = { params = { outreach = 1.0 } }
metric = { column = "engagement_majority", minus = "engagement_marginalised" }
expect = "decrease"

[[pattern]]
name = "openness_trust"
claim = "Openness raises trust."
reference = { params = { coproduction_openness = 0.3 } }
treatment = { params = { coproduction_openness = 0.8 } }
metric = { column = "trust" }
expect = "increase"
"""


def write(tmp_path: Path, text: str, name: str = "abl.toml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def test_good_file_loads_and_resolves_in_order(tmp_path):
    exp = load_ablation(write(tmp_path, GOOD))
    assert (exp.name, exp.seed, exp.steps, exp.blocks, exp.replicates) == ("t", 5, 6, 5, 2)
    p = exp.patterns[0]
    ref, trt = p.arms()
    assert ref["outreach"] == 0.0 and trt["outreach"] == 0.5 and ref["n_citizens"] == 200
    ref_off, trt_off = p.arms("no_networks")
    assert not ref_off["networks_enabled"] and not trt_off["networks_enabled"] and trt_off["outreach"] == 0.5
    assert p.expect == 1 and exp.patterns[1].expect == -1
    assert exp.patterns[1].measure.label() == "final engagement_majority - engagement_marginalised"
    # command-line settings override the file's
    exp2 = load_ablation(write(tmp_path, GOOD), blocks=6, replicates=1, steps=3, citizens=150)
    assert (exp2.blocks, exp2.replicates, exp2.steps) == (6, 1, 3)
    assert exp2.patterns[0].arms()[0]["n_citizens"] == 150


def test_presets_then_params_then_ablation(tmp_path):
    text = GOOD.replace(
        "reference = { params = { outreach = 0.0 } }\ntreatment = { params = { outreach = 0.5 } }",
        'params = { mutual_aid = 0.7 }\nreference = { preset = "baseline" }\n'
        'treatment = { preset = "austerity", params = { mutual_aid = 0.9 } }',
        1,
    ).replace("no_mutual_aid = { mutual_aid = 0.0 }\n", "")
    p = load_ablation(write(tmp_path, text)).patterns[0]
    ref, trt = p.arms()
    assert ref["mutual_aid"] == 0.7 and trt["mutual_aid"] == 0.9 and trt["budget_path"][6] == 0.808
    assert p.treatment.describe() == "austerity + mutual_aid = 0.9"


def cut(text: str, line: str) -> str:
    assert line in text, line
    return text.replace(line, "", 1)


# (changed text, words the one-line message must contain)
BAD: list[tuple[str, str, list[str]]] = [
    ("syntax", "[experiment\nseed = 1", ["not valid TOML"]),
    ("kind", GOOD.replace('kind = "ablation"', 'kind = "levers"'), ["[experiment] kind", "'levers'"]),
    ("no-seed", cut(GOOD, "seed = 5\n"), ["[experiment] seed", "missing"]),
    ("blocks", GOOD.replace("blocks = 5", "blocks = 1"), ["[experiment] blocks", "1", "integer in [2,"]),
    ("top", GOOD + "\n[pattern_x]\n", ["unknown table 'pattern_x'"]),
    ("no-pattern", GOOD.split("[[pattern]]")[0], ["[[pattern]]", "missing"]),
    ("no-claim", cut(GOOD, 'claim = "Openness raises trust."\n'), ["(openness_trust)", "claim", "missing"]),
    ("no-metric", cut(GOOD, 'metric = { column = "trust" }\n'), ["(openness_trust)", "metric", "missing"]),
    (
        "unknown-param",
        GOOD.replace("coproduction_openness = 0.8", "coproduction_opennes = 0.8"),
        [
            "treatment params",
            "unknown parameter 'coproduction_opennes'",
            "did you mean 'coproduction_openness'",
        ],
    ),
    ("bad-value", GOOD.replace("outreach = 0.5", "outreach = 1.5"), ["outreach = 1.5", "[0, 1]"]),
    (
        "unknown-column",
        GOOD.replace('metric = { column = "trust" }', 'metric = { column = "trusts" }'),
        ["metric column", "unknown output column 'trusts'", "did you mean 'trust'"],
    ),
    (
        "bad-stat",
        GOOD.replace('metric = { column = "trust" }', 'metric = { column = "trust", stat = "last" }'),
        ["metric stat", "'last'", "'final'"],
    ),
    (
        "at-no-step",
        GOOD.replace('metric = { column = "trust" }', 'metric = { column = "trust", stat = "at" }'),
        ["metric step", "missing"],
    ),
    (
        "step-beyond",
        GOOD.replace('metric = { column = "trust" }', 'metric = { column = "trust", stat = "at", step = 7 }'),
        ["metric step", "7", "integer in [0, 6]"],
    ),
    (
        "two-kinds",
        GOOD.replace('metric = { column = "trust" }', 'metric = { column = "trust", summary = "shock_dip" }'),
        ["exactly one of column"],
    ),
    (
        "no-shock",
        GOOD.replace('metric = { column = "trust" }', 'metric = { summary = "shock_dip" }'),
        ["shock_dip needs a shock", "reference arm"],
    ),
    (
        "probe",
        GOOD.replace(
            'metric = { column = "trust" }', 'metric = { probe = "council_weight", domains = ["job"] }'
        ),
        ["unknown domain 'job'", "did you mean 'jobs'"],
    ),
    (
        "expect",
        GOOD.replace('expect = "increase"\nmargin', 'expect = "up"\nmargin'),
        ["expect", "'up'", "'increase'"],
    ),
    (
        "same-arms",
        GOOD.replace("coproduction_openness = 0.8", "coproduction_openness = 0.3"),
        ["(openness_trust)", "resolve to the same parameters"],
    ),
    (
        "ablation-clash",
        GOOD.replace("no_mutual_aid = { mutual_aid = 0.0 }", "no_outreach = { outreach = 0.0 }"),
        ["ablations.no_outreach", "sets outreach, which the arms compare"],
    ),
    (
        "ablation-noop",
        GOOD.replace("no_mutual_aid = { mutual_aid = 0.0 }", "same = { mutual_aid = 0.3 }"),
        ["ablations.same", "changes nothing"],
    ),
    (
        "ablation-empty",
        GOOD.replace("no_mutual_aid = { mutual_aid = 0.0 }", "empty = {}"),
        ["ablations.empty", "at least one parameter"],
    ),
    (
        "cross-rule",
        GOOD.replace("coproduction_openness = 0.8 }", "coproduction_openness = 0.8, voice_weight = 0.9 }"),
        ["(openness_trust) treatment", "voice_weight + need_weight"],
    ),
    (
        "preset",
        GOOD.replace("params = { outreach = 0.0 }", 'preset = "basline"'),
        ["reference preset", "basline"],
    ),
    (
        "dup-name",
        GOOD.replace('name = "openness_trust"', 'name = "outreach_gap"'),
        ["names must be distinct"],
    ),
]


@pytest.mark.parametrize("case,text,words", BAD, ids=[b[0] for b in BAD])
def test_bad_files_give_one_line_and_exit_2(tmp_path, case, text, words):
    path = write(tmp_path, text)
    with pytest.raises(UserError) as info:
        load_ablation(path)
    msg = str(info.value)
    assert "\n" not in msg and str(path) in msg
    for w in words:
        assert w in msg, f"{case}: {w!r} not in {msg!r}"
    res = CliRunner().invoke(app, ["ablation", str(path), "--out", str(tmp_path / "out")])
    assert res.exit_code == 2
    assert res.stderr.strip().splitlines() == [f"error: {msg}"]
    assert not (tmp_path / "out").exists()


def test_missing_file_exits_2(tmp_path):
    res = CliRunner().invoke(app, ["ablation", str(tmp_path / "nope.toml")])
    assert res.exit_code == 2 and "not found" in res.stderr and "Traceback" not in res.stderr


# ----------------------------------------------------------------------------
# The runner, with the fake engine of known effects


@pytest.fixture(scope="module")
def fake_result(tmp_path_factory):
    path = write(tmp_path_factory.mktemp("abl"), GOOD)
    return run_ablation(load_ablation(path), engine=fake_engine)


def test_known_effects_per_block_and_pooled(fake_result):
    row = fake_result.row("outreach_lifts")
    # outcome = 0.5 + 0.1 * outreach * networks + 0.02 * mutual_aid + seed noise: exactly +0.05 everywhere
    assert row.effect.blocks == pytest.approx((0.05,) * 5, abs=1e-12)
    assert row.effect.effect == pytest.approx(0.05) and row.effect.high - row.effect.low < 1e-9
    assert row.effect.consistent and row.verdict == "holds"
    # the shared noise shows in each arm's replicate sd, not in the paired effect
    assert 0.002 < row.effect.replicate_sd < 0.03
    off = fake_result.row("outreach_lifts", "no_networks")
    assert off.effect.effect == 0 and off.verdict == "zero" and fake_result.share(off) == 0
    aid = fake_result.row("outreach_lifts", "no_mutual_aid")
    assert aid.effect.effect == pytest.approx(0.05) and fake_result.share(aid) == pytest.approx(1.0)
    gap = fake_result.row("outreach_gap")
    assert gap.effect.effect == pytest.approx(-0.1) and gap.verdict == "holds"


def test_effects_with_seed_dependent_size_get_an_interval(fake_result):
    """trust effect = 0.05 + 0.5 * u, u ~ N(0, 0.05) per seed: the interval is over the block means."""
    e = fake_result.row("openness_trust").effect
    assert e.low < e.effect < e.high and e.high - e.low > 0.005
    assert e.effect == pytest.approx(0.05, abs=0.03)


def test_shared_points_run_once_and_every_arm_gets_the_same_seeds(tmp_path):
    log = SeedLog()
    exp = load_ablation(write(tmp_path, GOOD))
    res = run_ablation(exp, engine=log)
    # outreach 0 (the reference of two patterns) and openness 0.3 are both the defaults: one point, run once
    assert len(res.variants) == 8
    keys = sorted(set(log.keys))
    assert keys == sorted((5, (b, r)) for b in range(5) for r in range(2))
    assert len(log.keys) == 8 * 10


def test_results_do_not_depend_on_chunking(tmp_path, monkeypatch):
    from civsim.experiments import paired

    exp = load_ablation(write(tmp_path, GOOD))
    a = table(run_ablation(exp, engine=fake_engine))
    monkeypatch.setattr(paired, "CITIZENS_PER_CHUNK", 600)  # 3 runs per chunk
    b = table(run_ablation(exp, engine=fake_engine))
    pd.testing.assert_frame_equal(a, b)


def test_outputs(fake_result, tmp_path):
    paths = write_ablation(
        fake_result, tmp_path / "out", doc=tmp_path / "docs" / "ablation.md", command="civsim x"
    )
    names = [p.name for p in paths]
    assert names == ["ablation.csv", "runs.csv", "manifest.json", "ablation.md", "ablation.md"]
    csv = pd.read_csv(tmp_path / "out" / "ablation.csv")
    assert list(csv["pattern"]) == ["outreach_lifts"] * 3 + ["outreach_gap", "openness_trust"]
    assert list(csv["ablation"])[:3] == ["(none)", "no_networks", "no_mutual_aid"]
    assert {"effect", "ci_low", "ci_high", "consistent_sign", "verdict", "block_4"} <= set(csv.columns)
    runs = pd.read_csv(tmp_path / "out" / "runs.csv")
    assert len(runs) == 5 * 2 * 2 * 5  # rows x arms x blocks x replicates
    man = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert man["seeds"]["rule"].startswith("np.random.SeedSequence(seed, spawn_key=(block, replicate))")
    assert man["seeds"]["seed"] == 5 and man["settings"]["blocks"] == 5
    key = man["patterns"]["outreach_lifts"]["keys"]["no_networks"]["treatment"]
    assert man["params"][key]["networks_enabled"] is False and man["params"][key]["outreach"] == 0.5
    md = (tmp_path / "docs" / "ablation.md").read_text()
    assert md == (tmp_path / "out" / "ablation.md").read_text()
    assert "| **outreach_lifts** | final outcome_index | + | +0.0500 [+0.0500, +0.0500] | yes | holds |" in md
    assert "`no_networks` (networks_enabled = false): +0.0000 [+0.0000, +0.0000] (0%, mixed, zero)" in md
    assert "Regenerate with `civsim x`" in md and "> Openness raises trust." in md


def test_markdown_is_deterministic(fake_result):
    assert markdown(fake_result) == markdown(fake_result)


# ----------------------------------------------------------------------------
# End to end on the batch core (tiny)

TINY = """
[experiment]
kind = "ablation"
name = "tiny"
seed = 3
steps = 24
blocks = 5
replicates = 1

[params]
n_citizens = 200

[[pattern]]
name = "austerity"
claim = "Austerity lowers the budget."
reference = { preset = "baseline" }
treatment = { preset = "austerity" }
metric = { column = "budget" }
expect = "decrease"
[pattern.ablations]
no_networks = { networks_enabled = false }

[[pattern]]
name = "shock"
claim = "A bigger shock digs a deeper dip."
params = { shock_month = 6 }
reference = { params = { shock_size = 0.1 } }
treatment = { params = { shock_size = 0.4 } }
metric = { summary = "shock_dip" }
expect = "increase"

[[pattern]]
name = "agenda"
claim = "Probes read the council's final weights."
reference = { params = { voice_weight = 0.0 } }
treatment = { params = { voice_weight = 0.6 } }
metric = { probe = "council_weight", domains = ["jobs", "housing"] }
expect = "increase"
"""


def test_tiny_end_to_end_run_through_the_cli(tmp_path):
    path = write(tmp_path, TINY)
    out = tmp_path / "out"
    res = CliRunner().invoke(
        app, ["ablation", str(path), "--out", str(out), "--doc", str(tmp_path / "a.md"), "-q"]
    )
    assert res.exit_code == 0, res.output
    assert "austerity" in res.stdout and "runs in" in res.stdout
    csv = pd.read_csv(out / "ablation.csv").set_index(["pattern", "ablation"])
    # direction-only checks that hold for any model: austerity cuts the budget, a bigger shock a deeper dip
    assert (
        csv.loc[("austerity", "(none)"), "effect"] < 0 and csv.loc[("austerity", "(none)"), "consistent_sign"]
    )
    assert csv.loc[("shock", "(none)"), "effect"] > 0
    assert np.isfinite(csv.loc[("agenda", "(none)"), "effect"])
    man = json.loads((out / "manifest.json").read_text())
    assert man["engine"] == "batch" and len(man["model"]) == 16 and man["run"]["runs"] == 8 * 5
    assert all(p["n_citizens"] == 200 for p in man["params"].values())
    assert (tmp_path / "a.md").read_text().startswith("# Pattern ablations: tiny")


def test_workers_give_the_same_numbers(tmp_path, monkeypatch):
    """A process pool of 2 workers returns exactly what this process computes."""
    from civsim.experiments import paired

    monkeypatch.setattr(paired, "CITIZENS_PER_CHUNK", 400)  # 2 runs a chunk: 3 chunks
    exp = load_ablation(write(tmp_path, GOOD))
    variants = {"a": (exp.patterns[2].arms()[1], (exp.patterns[2].measure,))}
    inline, _ = run_variants(variants, seed=1, blocks=3, reps=2, steps=6, engine=fake_engine, workers=1)
    pooled, stats = run_variants(
        variants, seed=1, blocks=3, reps=2, steps=6, engine=fake_engine, workers=2, backend="process"
    )
    assert stats.backend == "process" and stats.workers == 2
    assert np.isfinite(inline["a"].values).all()
    np.testing.assert_array_equal(inline["a"].values, pooled["a"].values)


def test_shipped_ablation_file_loads():
    exp = load_ablation(REPO / "experiments" / "ablation.toml")
    assert exp.blocks >= 5 and exp.replicates >= 1 and len(exp.patterns) >= 7
    letters = {p.name.split("_")[0] for p in exp.patterns}
    assert letters == set("abcdefg"), letters
    assert all(p.ablations for p in exp.patterns)
