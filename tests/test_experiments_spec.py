"""Experiment files: good ones load; every bad one gives one clear line and exit 2."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from civsim.errors import UserError
from civsim.experiments.spec import load_experiment

REPO = Path(__file__).resolve().parents[1]

GOOD = """
[experiment]
name = "t"
seed = 1
steps = 12
replicates = 2

[params]
n_citizens = 300

[factors]
austerity_rate = [0.0, -0.05]
coordination_benefit = { range = [0.0, 1.0], num = 3 }
outreach = { values = [0.0, 0.5] }

[output]
keep = "series"
every = 6
metrics = ["outcome_index", "engagement"]
"""


def write(tmp_path: Path, text: str, name: str = "exp.toml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def test_good_file_loads(tmp_path):
    exp = load_experiment(write(tmp_path, GOOD))
    assert exp.name == "t" and exp.seed == 1 and exp.steps == 12 and exp.replicates == 2
    assert exp.base == {"n_citizens": 300}
    assert exp.factor_names == ("austerity_rate", "coordination_benefit", "outreach")
    assert exp.factors[1].is_range and exp.factors[1].num == 3
    assert exp.output.keep == "series" and exp.output.every == 6
    assert exp.output.metrics == ("outcome_index", "engagement")


def test_shipped_experiments_load():
    import tomllib

    files = sorted((REPO / "experiments").glob("*.toml"))
    assert any(p.stem == "smoke" for p in files)
    from civsim.experiments.futures import load_any_experiment  # strategy experiments too

    for p in files:
        # ablation and lever files (civsim ablation, civsim levers): see test_ablation.py, test_levers.py
        if tomllib.loads(p.read_text()).get("experiment", {}).get("kind") in ("ablation", "levers"):
            continue
        load_any_experiment(p)


# (snippet replacing/adding to GOOD, words the message must contain)
BAD: list[tuple[str, str, list[str]]] = [
    ("syntax", "[experiment\nseed = 1", ["not valid TOML"]),
    ("top-level", GOOD + "\n[factor]\nx = 1\n", ["unknown table 'factor'", "did you mean 'factors'"]),
    ("no-experiment", "[params]\nn_citizens = 10\n", ["missing the [experiment] table"]),
    ("no-seed", GOOD.replace("seed = 1\n", ""), ["[experiment] seed", "missing"]),
    ("bad-seed", GOOD.replace("seed = 1", "seed = -3"), ["[experiment] seed", "-3", "integer in [0,"]),
    ("seed-str", GOOD.replace("seed = 1", 'seed = "one"'), ["[experiment] seed", "'one'"]),
    ("no-steps", GOOD.replace("steps = 12\n", ""), ["[experiment] steps", "missing"]),
    ("zero-steps", GOOD.replace("steps = 12", "steps = 0"), ["[experiment] steps", "0", "integer in [1,"]),
    ("reps", GOOD.replace("replicates = 2", "replicates = 0"), ["[experiment] replicates", "integer in [1,"]),
    (
        "exp-key",
        GOOD.replace("replicates = 2", "replicate = 2"),
        ["unknown key 'replicate'", "did you mean 'replicates'"],
    ),
    (
        "chunk",
        GOOD.replace("replicates = 2", "replicates = 2\nchunk_size = 0"),
        ["chunk_size", "integer in [1,"],
    ),
    (
        "param-unknown",
        GOOD.replace("n_citizens = 300", "n_citizen = 300"),
        ["[params] n_citizen", "did you mean 'n_citizens'"],
    ),
    (
        "param-value",
        GOOD.replace("n_citizens = 300", "n_citizens = 5"),
        ["[params] n_citizens", "n_citizens = 5", "integer in [10,"],
    ),
    (
        "param-rule",
        GOOD.replace("n_citizens = 300", "voice_weight = 0.8\nneed_weight = 0.5"),
        ["[params]", "voice_weight + need_weight"],
    ),
    (
        "factor-unknown",
        GOOD.replace("outreach = {", "outrech = {"),
        ["[factors] outrech", "did you mean 'outreach'"],
    ),
    (
        "factor-value",
        GOOD.replace("[0.0, -0.05]", "[0.0, -0.9]"),
        ["[factors] austerity_rate.values[1]", "-0.9", "[-0.5, 0.5]"],
    ),
    ("factor-dup", GOOD.replace("[0.0, -0.05]", "[0.0, 0.0]"), ["austerity_rate.values", "distinct"]),
    ("factor-empty", GOOD.replace("[0.0, -0.05]", "[]"), ["austerity_rate.values", "non-empty list"]),
    (
        "factor-both",
        GOOD.replace("{ values = [0.0, 0.5] }", "{ values = [0.0], range = [0.0, 1.0] }"),
        ["[factors] outreach", "exactly one"],
    ),
    (
        "factor-key",
        GOOD.replace("num = 3", "n = 3"),
        ["[factors] coordination_benefit", "unknown key 'n'", "allowed keys: values, range, num"],
    ),
    (
        "range-order",
        GOOD.replace("range = [0.0, 1.0]", "range = [1.0, 0.0]"),
        ["coordination_benefit.range", "low must be below high"],
    ),
    (
        "range-bounds",
        GOOD.replace("range = [0.0, 1.0]", "range = [0.0, 9.0]"),
        ["coordination_benefit.range[1]", "9.0", "[0, 3]"],
    ),
    (
        "range-shape",
        GOOD.replace("range = [0.0, 1.0]", "range = [0.0]"),
        ["coordination_benefit.range", "two numbers"],
    ),
    ("range-bool", GOOD + "\n", []),  # placeholder replaced below
    ("grid-num", GOOD.replace(", num = 3", ""), ["[factors] coordination_benefit", "needs num"]),
    (
        "list-param",
        GOOD.replace("outreach = { values = [0.0, 0.5] }", 'domains = ["a", "b"]'),
        ["[factors] domains", "list parameter"],
    ),
    ("design-kind", GOOD + '\n[design]\nkind = "grd"\n', ["[design] kind", "'grd'", "did you mean 'grid'"]),
    ("design-key", GOOD + '\n[design]\nkind = "grid"\nsamples = 4\n', ["[design]", "unknown key 'samples'"]),
    (
        "lhs-samples",
        GOOD.replace(", num = 3", "") + '\n[design]\nkind = "lhs"\n',
        ["[design] samples", "missing"],
    ),
    (
        "lhs-num",
        GOOD + '\n[design]\nkind = "lhs"\nsamples = 4\n',
        ["coordination_benefit.num", "grid designs only"],
    ),
    (
        "sobol-pow2",
        GOOD.replace(", num = 3", "") + '\n[design]\nkind = "sobol"\nsamples = 100\n',
        ["[design] samples", "power of 2", "64 or 128"],
    ),
    (
        "sobol-so",
        GOOD.replace(", num = 3", "") + '\n[design]\nkind = "sobol"\nsamples = 8\nsecond_order = "yes"\n',
        ["second_order", "true or false"],
    ),
    (
        "morris-levels",
        GOOD.replace(", num = 3", "") + '\n[design]\nkind = "morris"\ntrajectories = 4\nlevels = 3\n',
        ["[design] levels", "even"],
    ),
    (
        "morris-traj",
        GOOD.replace(", num = 3", "") + '\n[design]\nkind = "morris"\n',
        ["[design] trajectories", "missing"],
    ),
    (
        "list-lengths",
        GOOD.replace(", num = 3", "") + '\n[design]\nkind = "list"\n',
        ["coordination_benefit", "list design needs values"],
    ),
    (
        "list-unequal",
        GOOD.replace("coordination_benefit = { range = [0.0, 1.0], num = 3 }\n", "").replace(
            "[0.0, 0.5]", "[0.0, 0.5, 0.7]"
        )
        + '\n[design]\nkind = "list"\n',
        ["same length", "austerity_rate: 2", "outreach: 3"],
    ),
    (
        "keep",
        GOOD.replace('keep = "series"', 'keep = "all"'),
        ["[output] keep", "'all'", "'summary'", "'series'"],
    ),
    (
        "metric",
        GOOD.replace('"engagement"]', '"engagment"]'),
        ["[output] metrics[1]", "'engagment'", "did you mean 'engagement'"],
    ),
    (
        "every",
        GOOD.replace('keep = "series"', 'keep = "summary"'),
        ["[output] every", "6 is not allowed", "keep = 'series' only"],
    ),
    ("output-key", GOOD.replace("every = 6", "evry = 6"), ["[output]", "unknown key 'evry'"]),
    (
        "point-rule",
        GOOD.replace("n_citizens = 300", "n_citizens = 300\nneed_weight = 0.6").replace(
            "outreach = { values = [0.0, 0.5] }", "voice_weight = [0.2, 0.6]"
        ),
        ["design point", "voice_weight + need_weight"],
    ),
]
BAD = [b for b in BAD if b[0] != "range-bool"] + [
    (
        "range-bool",
        GOOD.replace("outreach = { values = [0.0, 0.5] }", "networks_enabled = { range = [0, 1] }"),
        ["networks_enabled.range", "bool parameter", "values"],
    ),
]


def _load_and_plan(path: Path) -> None:
    from civsim.experiments.runner import plan_sweep

    plan_sweep(load_experiment(path), engine="toy")


@pytest.mark.parametrize("label,text,words", BAD, ids=[b[0] for b in BAD])
def test_bad_file_gives_clear_message(tmp_path, label, text, words):
    path = write(tmp_path, text)
    with pytest.raises(UserError) as err:
        _load_and_plan(path)
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith(str(path)), msg
    for w in words:
        assert w in msg, f"{w!r} not in {msg!r}"


def test_missing_file_lists_shipped_experiments(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    with pytest.raises(
        UserError, match=r"experiment file 'nosuch' not found; experiments in ./experiments: .*smoke"
    ):
        load_experiment("nosuch")
    assert load_experiment("smoke").name == "smoke"


@pytest.mark.parametrize("label,text,words", BAD, ids=[b[0] for b in BAD])
def test_cli_bad_file_exits_2_with_one_line(tmp_path, label, text, words):
    from typer.testing import CliRunner

    from civsim.experiments.commands import standalone_app

    path = write(tmp_path, text)
    res = CliRunner().invoke(standalone_app(), ["sweep", str(path), "--out", str(tmp_path / "o"), "-w", "1"])
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}"), res.stderr
    assert all(w in lines[0] for w in words)
    assert not (tmp_path / "o").exists()


def test_bad_file_in_a_real_process_exits_2_without_traceback(tmp_path):
    label, text, words = BAD[15]
    path = write(tmp_path, text)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "civsim.experiments",
            "sweep",
            str(path),
            "--out",
            str(tmp_path / "o"),
            "-w",
            "1",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert proc.stderr.startswith(f"error: {path}: [factors] austerity_rate.values[1]")
    assert "Traceback" not in proc.stderr


def test_repeated_values_only_in_a_list_design(tmp_path):
    """A grid (or sampled) factor with a repeated value would run a point twice; a list design
    zips the i-th values, so a value may recur there (e.g. posterior draws)."""
    grid = GOOD.replace("outreach = { values = [0.0, 0.5] }", "outreach = { values = [0.5, 0.5] }")
    distinct = r"outreach.values: \[0.5, 0.5\] is not allowed: values must be distinct"
    with pytest.raises(UserError, match=distinct):
        _load_and_plan(write(tmp_path, grid))
    listed = GOOD.replace("austerity_rate = [0.0, -0.05]", "austerity_rate = [-0.05, -0.05]")
    listed = listed.replace("coordination_benefit = { range = [0.0, 1.0], num = 3 }\n", "")
    listed = listed.replace("[output]", '[design]\nkind = "list"\n\n[output]')
    exp = load_experiment(write(tmp_path, listed, "list.toml"))
    assert exp.design.kind == "list" and exp.factors[0].values == (-0.05, -0.05)
