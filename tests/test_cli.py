"""The ``civsim`` command line, run as users run it (a subprocess of the console script).

Good inputs write the documented outputs; every bad input exits with status 2
and prints exactly one line on stderr that names the file, key and value (and
never a traceback).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from civsim.params import SCHEMA, resolve
from civsim.scenario import preset_names
from civsim.simulate import simulate

CIVSIM = Path(sys.executable).parent / "civsim"
MAIN_COLUMNS = (
    "step",
    "outcome_index",
    "inclusion_gap",
    "engagement",
    "trust",
    "budget",
    "alliances",
    "coordination_density",
)


def civsim(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
    return subprocess.run(
        [str(CIVSIM), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env
    )


def test_console_script_installed():
    assert CIVSIM.exists(), f"{CIVSIM} missing: is civsim installed in this environment?"


# ----------------------------------------------------------------------------
# civsim run


@pytest.fixture(scope="module")
def baseline_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "tmp"
    res = civsim("run", "baseline", "--steps", "12", "--out", str(out))
    assert res.returncode == 0, res.stderr
    return out, res


def test_run_writes_timeseries(baseline_run):
    out, res = baseline_run
    ts = pd.read_csv(out / "timeseries.csv")
    assert len(ts) == 13
    missing = [c for c in MAIN_COLUMNS if c not in ts.columns]
    assert not missing, f"timeseries.csv lacks {missing}"
    assert ts.columns[0] == "step" and "rep" not in ts.columns
    assert ts["step"].tolist() == list(range(13))
    assert not ts.isna().any().any()
    # the same numbers as the library (seed 0, defaults)
    lib, _ = simulate(resolve({}), seed=0, steps=12, reps=1, engine="mesa")
    lib = lib.drop(columns="rep")
    assert list(lib.columns) == list(ts.columns)
    np.testing.assert_allclose(ts.to_numpy(float), lib.to_numpy(float), rtol=0, atol=1e-12)
    assert "outcome_index" in res.stdout and "wrote" in res.stdout


def test_run_writes_summary(baseline_run):
    out, _ = baseline_run
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary) >= {"replicates", "shocks"}
    assert len(summary["replicates"]) == 1
    rep = summary["replicates"][0]
    assert rep["rep"] == 0
    ts = pd.read_csv(out / "timeseries.csv")
    assert rep["final_outcome_index"] == pytest.approx(ts["outcome_index"].iloc[-1], abs=1e-12)
    assert rep["mean_engagement"] == pytest.approx(ts["engagement"].mean(), abs=1e-12)
    assert summary["shocks"] == []


def test_run_writes_manifest(baseline_run):
    out, _ = baseline_run
    m = json.loads((out / "manifest.json").read_text())
    assert m["seed"] == 0 and m["steps"] == 12 and m["reps"] == 1 and m["engine"] == "mesa"
    assert m["scenario"]["name"] == "baseline"
    # parameters fully resolved: every schema key, equal to the resolved defaults
    assert set(m["params"]) == set(SCHEMA)
    expected = json.loads(json.dumps(resolve({}), default=list))
    assert m["params"] == expected
    for dep in ("civsim", "python", "mesa", "numpy", "pandas", "scipy"):
        assert dep in m["versions"] and m["versions"][dep], dep
    assert "seeds" in m and "command" in m


def test_run_parquet(tmp_path):
    res = civsim("run", "baseline", "--steps", "12", "--out", str(tmp_path / "pq"), "--format", "parquet")
    assert res.returncode == 0, res.stderr
    ts = pd.read_parquet(tmp_path / "pq" / "timeseries.parquet")
    assert len(ts) == 13 and all(c in ts.columns for c in MAIN_COLUMNS)
    assert not (tmp_path / "pq" / "timeseries.csv").exists()
    lib, _ = simulate(resolve({}), seed=0, steps=12, reps=1, engine="mesa")
    np.testing.assert_array_equal(ts["outcome_index"].to_numpy(), lib["outcome_index"].to_numpy())


def test_run_replicates_batch(tmp_path):
    out = tmp_path / "reps"
    res = civsim(
        "run",
        "baseline",
        "--steps",
        "12",
        "--reps",
        "3",
        "--engine",
        "batch",
        "--out",
        str(out),
        "--set",
        "n_citizens=500",
    )
    assert res.returncode == 0, res.stderr
    ts = pd.read_csv(out / "timeseries.csv")
    assert ts.columns[0] == "rep"
    assert sorted(ts["rep"].unique()) == [0, 1, 2]
    assert len(ts) == 3 * 13
    assert "90% interval" in res.stdout, res.stdout
    assert "end mean" in res.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["replicates"]) == 3
    m = json.loads((out / "manifest.json").read_text())
    assert m["reps"] == 3 and m["engine"] == "batch" and m["params"]["n_citizens"] == 500
    # replicates differ, and match the library's replicates
    lib, _ = simulate(resolve({"n_citizens": 500}), seed=0, steps=12, reps=3, engine="batch")
    np.testing.assert_allclose(
        ts["outcome_index"].to_numpy(), lib["outcome_index"].to_numpy(), atol=1e-12, rtol=0
    )
    finals = ts[ts.step == 12]["outcome_index"]
    assert finals.nunique() == 3


def test_run_scenario_file_with_set_seed_and_citizens(tmp_path):
    (tmp_path / "mine.toml").write_text(
        'description = "mine."\nextends = "austerity"\nseed = 5\nsteps = 6\n[params]\noutreach = 0.4\n'
    )
    res = civsim(
        "run", "mine.toml", "--out", "o", "--citizens", "300", "--set", "trust_rate=0.1", cwd=tmp_path
    )
    assert res.returncode == 0, res.stderr
    m = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert m["seed"] == 5 and m["steps"] == 6
    p = m["params"]
    assert (
        p["n_citizens"] == 300
        and p["trust_rate"] == 0.1
        and p["outreach"] == 0.4
        and p["budget_path"][6] == 0.808
    )
    assert len(pd.read_csv(tmp_path / "o" / "timeseries.csv")) == 7


# ----------------------------------------------------------------------------
# civsim scenarios / params / validate


def test_scenarios_lists_every_preset():
    res = civsim("scenarios")
    assert res.returncode == 0, res.stderr
    for name in preset_names():
        assert name in res.stdout, name


def test_params_json():
    res = civsim("params", "--json")
    assert res.returncode == 0, res.stderr
    records = json.loads(res.stdout)
    assert [r["name"] for r in records] == list(SCHEMA)
    for r in records:
        for key in ("name", "type", "default", "min", "max", "unit", "strand", "help"):
            assert key in r, (r.get("name"), key)
        p = SCHEMA[r["name"]]
        assert r["type"] == p.type and r["strand"] == p.strand and r["help"] == p.help and r["help"]
        assert r["min"] == p.min and r["max"] == p.max
        default = list(p.default) if isinstance(p.default, tuple) else p.default
        assert r["default"] == default
        if p.type in ("float", "int"):
            assert r["min"] <= r["default"] <= r["max"]


def test_params_table_and_strand():
    res = civsim("params", "--strand", "inclusion")
    assert res.returncode == 0, res.stderr
    assert "participation_barrier" in res.stdout and "austerity_rate" not in res.stdout


@pytest.mark.parametrize("name", preset_names())
def test_validate_preset_ok(name):
    res = civsim("validate", name)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("ok") and name in res.stdout


# ----------------------------------------------------------------------------
# Bad inputs: exit 2, one clear line on stderr

FILES = {
    "typo.toml": "[params]\nausterty_rate = -0.05\n",
    "wrongtype.toml": '[params]\nausterity_rate = "lots"\n',
    "range.toml": "[params]\nausterity_rate = 0.9\n",
    "nan.toml": "[params]\nausterity_rate = nan\n",
    "broken.toml": "[params\nausterity_rate = 0.1\n",
    "toplevel.toml": "austerity_rate = 0.1\n",
    "sum.toml": "[params]\nvoice_weight = 0.7\nneed_weight = 0.5\n",
    "badint.toml": "[params]\nn_agencies = 2.5\n",
    "badchoice.toml": '[params]\nshock_kind = "flood"\n',
    "badsteps.toml": "steps = 0\n",
    "cycle_a.toml": 'extends = "cycle_b.toml"\n',
    "cycle_b.toml": 'extends = "cycle_a.toml"\n',
}

BAD = {
    # id: (args, substrings the error line must contain)
    "unknown-key": (
        ["run", "typo.toml"],
        ["typo.toml", "austerty_rate", "did you mean 'austerity_rate'", "[params]"],
    ),
    "unknown-key-validate": (["validate", "typo.toml"], ["typo.toml", "austerty_rate", "'austerity_rate'"]),
    "wrong-type": (["run", "wrongtype.toml"], ["wrongtype.toml", "austerity_rate", "'lots'", "[-0.5, 0.5]"]),
    "out-of-range": (["validate", "range.toml"], ["range.toml", "austerity_rate", "0.9", "[-0.5, 0.5]"]),
    "nan": (["run", "nan.toml"], ["nan.toml", "austerity_rate", "nan"]),
    "broken-toml": (["validate", "broken.toml"], ["broken.toml", "TOML", "line 1"]),
    "param-at-top-level": (["validate", "toplevel.toml"], ["toplevel.toml", "austerity_rate", "[params]"]),
    "sum-constraint": (["run", "sum.toml"], ["sum.toml", "voice_weight", "need_weight", "1.2"]),
    "int-expected": (["validate", "badint.toml"], ["badint.toml", "n_agencies", "2.5", "integer"]),
    "bad-choice": (["validate", "badchoice.toml"], ["badchoice.toml", "shock_kind", "flood", "economic"]),
    "bad-steps": (["validate", "badsteps.toml"], ["badsteps.toml", "steps", "0"]),
    "extends-cycle": (["validate", "cycle_a.toml"], ["cycle", "cycle_a.toml"]),
    "missing-file": (["run", "nothere/scenario.toml"], ["nothere/scenario.toml", "not found"]),
    "missing-file-validate": (["validate", "absent.toml"], ["absent.toml", "not found"]),
    "unknown-preset": (["run", "baselin"], ["'baselin'", "did you mean 'baseline'"]),
    "set-unknown-key": (
        ["run", "baseline", "--set", "austerty_rate=0.1"],
        ["--set", "austerty_rate", "'austerity_rate'"],
    ),
    "set-bad-value": (["run", "baseline", "--set", "austerity_rate=abc"], ["--set", "austerity_rate", "abc"]),
    "set-out-of-range": (["run", "baseline", "--set", "trust_rate=7"], ["--set", "trust_rate", "7"]),
    "set-nan": (["run", "baseline", "--set", "austerity_rate=nan"], ["--set", "austerity_rate", "nan"]),
    "set-no-equals": (
        ["run", "baseline", "--set", "austerity_rate"],
        ["--set", "austerity_rate", "key=value"],
    ),
    "set-sum-constraint": (["run", "baseline", "--set", "voice_weight=0.9"], ["voice_weight", "need_weight"]),
    "bad-format": (["run", "baseline", "--format", "xlsx"], ["--format", "xlsx", "csv", "parquet"]),
    "bad-engine": (["run", "baseline", "--engine", "gpu"], ["--engine", "gpu"]),
    "bad-strand": (["params", "--strand", "nope"], ["--strand", "nope"]),
}


@pytest.fixture(scope="module")
def bad_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    for name, text in FILES.items():
        (d / name).write_text(text)
    return d


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_input_exits_2_with_one_line(case, bad_dir):
    args, expected = BAD[case]
    if args[0] == "run":
        res = civsim(*args, "--steps", "2", "--out", str(bad_dir / "never"), cwd=bad_dir)
    else:
        res = civsim(*args, cwd=bad_dir)
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert res.returncode == 2, f"exit {res.returncode}; stderr: {res.stderr!r}"
    assert "Traceback" not in res.stderr and "Traceback" not in res.stdout
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}: {res.stderr!r}"
    line = lines[0]
    assert line.startswith("error:"), line
    missing = [s for s in expected if s not in line]
    assert not missing, f"error line lacks {missing}: {line!r}"
    assert not (bad_dir / "never").exists(), "outputs written despite the error"


# ----------------------------------------------------------------------------
# --help for every command


def command_names() -> list[str]:
    import typer

    from civsim.cli import app

    return sorted(typer.main.get_command(app).commands)


def test_expected_commands_exist():
    assert {"run", "scenarios", "params", "validate", "bench"} <= set(command_names())


def test_top_level_help():
    res = civsim("--help")
    assert res.returncode == 0, res.stderr
    for name in ("run", "scenarios", "params", "validate"):
        assert name in res.stdout
    bare = civsim()
    assert "Usage" in bare.stdout + bare.stderr and "Traceback" not in bare.stderr


@pytest.mark.parametrize("command", command_names())
def test_command_help(command):
    res = civsim(command, "--help")
    assert res.returncode == 0, res.stderr
    assert "Usage" in res.stdout and command in res.stdout
    assert "Traceback" not in res.stderr


def test_no_nan_in_strict_json_outputs(baseline_run):
    """summary.json and manifest.json are strict JSON (no NaN / Infinity tokens)."""
    out, _ = baseline_run
    for name in ("summary.json", "manifest.json"):
        json.loads((out / name).read_text(), parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    assert math.isfinite(json.loads((out / "summary.json").read_text())["replicates"][0]["final_trust"])


def test_bench_quick_json_records():
    """`civsim bench --quick --json`: a Mesa record per N, a batch record per N x B, ratios of one run,
    and the threads each engine used (the batch core's as asked with --threads)."""
    r = civsim("bench", "--quick", "--json", "--threads", "1", timeout=120)
    assert r.returncode == 0, r.stderr
    records = json.loads(r.stdout)
    keys = {"engine", "citizens", "batch", "threads", "citizen_steps_per_s", "bytes_per_citizen_run", "load"}
    assert all({*keys, "ratio_vs_mesa"} <= set(rec) for rec in records)
    assert all(rec["threads"] == 1 for rec in records)
    mesa = {rec["citizens"]: rec for rec in records if rec["engine"] == "mesa"}
    batch = [rec for rec in records if rec["engine"] == "batch"]
    assert set(mesa) == {2_000, 10_000} and all(m["batch"] == 1 for m in mesa.values())
    assert {(rec["citizens"], rec["batch"]) for rec in batch} == {(n, b) for n in mesa for b in (1, 8)}
    for rec in batch:
        assert rec["citizen_steps_per_s"] > 0 and rec["bytes_per_citizen_run"] > 0
        expected = rec["citizen_steps_per_s"] / mesa[rec["citizens"]]["citizen_steps_per_s"]
        assert math.isclose(rec["ratio_vs_mesa"], expected, rel_tol=1e-9)
