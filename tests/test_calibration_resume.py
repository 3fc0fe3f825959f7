"""A calibration killed with kill -9 resumes to the same posterior, running only what was missing.

The closed-form test engine keeps this fast; ``citizens = 100000`` makes
chunks of 4 runs (chunking depends on the population, not on the engine), so
the kill lands with some chunks written and others missing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
CIVSIM = Path(sys.executable).parent / "civsim"

TEXT = textwrap.dedent(
    """
    name = "resume"
    scenario = "baseline"
    engine = "toy"
    steps = 24
    citizens = 100000
    replicates = 2
    seed = 4
    [set]
    n_neighbourhoods = 2
    [parameters]
    outreach = [0.0, 1.0]
    [[targets]]
    metric = "engagement"
    step = 24
    window = [12, 24]
    value = 0.25
    sd = 0.01
    [history_matching]
    waves = 2
    points = 12
    [abc]
    population = 16
    generations = 3
    """
)


def cmd(path: Path, out: Path) -> list[str]:
    return [str(CIVSIM), "calibrate", str(path), "--out", str(out), "--workers", "1", "--quiet"]


def test_kill_9_then_same_command_resumes_to_the_same_posterior(tmp_path):
    path = tmp_path / "resume.toml"
    path.write_text(TEXT)
    env = {**os.environ, "NO_COLOR": "1"}
    ref = tmp_path / "ref"
    done = subprocess.run(cmd(path, ref), capture_output=True, text=True, env=env, timeout=600, cwd=REPO)
    assert done.returncode == 0, done.stderr
    total = json.loads((ref / "_manifest.json").read_text())["runs_total"]

    out = tmp_path / "out"
    proc = subprocess.Popen(cmd(path, out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=REPO)
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if len(list((out / "runs").glob("*/chunk-*.parquet"))) >= 2:
            break
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    survived = list((out / "runs").glob("*/chunk-*.parquet"))
    assert survived and not (out / "posterior.parquet").exists(), "the kill came too late to test anything"

    again = subprocess.run(cmd(path, out), capture_output=True, text=True, env=env, timeout=600, cwd=REPO)
    assert again.returncode == 0, again.stderr
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["runs_total"] == total
    assert manifest["sessions"][-1]["runs_simulated"] < total  # finished chunks were not run again
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "posterior.parquet"), pd.read_parquet(ref / "posterior.parquet")
    )


def test_changed_file_is_refused_for_an_existing_directory(tmp_path):
    path = tmp_path / "resume.toml"
    path.write_text(TEXT)
    out = tmp_path / "out"
    env = {**os.environ, "NO_COLOR": "1"}
    r = subprocess.run(cmd(path, out), capture_output=True, text=True, env=env, timeout=600, cwd=REPO)
    assert r.returncode == 0, r.stderr
    path.write_text(path.read_text().replace("seed = 4", "seed = 5"))
    r = subprocess.run(cmd(path, out), capture_output=True, text=True, env=env, timeout=600, cwd=REPO)
    assert r.returncode == 2 and "different inputs" in r.stderr and len(r.stderr.strip().splitlines()) == 1
