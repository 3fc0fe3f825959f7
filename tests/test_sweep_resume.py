"""Nothing lost: atomic chunks, resume after kill -9 or Ctrl-C, changed experiments refused."""

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
import pytest

from civsim.errors import UserError
from civsim.experiments.runner import run_sweep
from civsim.experiments.spec import load_experiment
from civsim.experiments.storage import MANIFEST

REPO = Path(__file__).resolve().parents[1]


def experiment(
    tmp_path: Path, *, steps: int = 12, n: int = 150, values: str = "[0.0, 0.3, 0.6]", name: str = "r"
) -> Path:
    p = tmp_path / f"{name}.toml"
    p.write_text(
        textwrap.dedent(
            f"""
            [experiment]
            name = "{name}"
            seed = 7
            steps = {steps}
            replicates = 2
            chunk_size = 2

            [params]
            n_citizens = {n}
            n_neighbourhoods = 2
            n_agencies = 4

            [factors]
            austerity_rate = [0.0, -0.09]
            outreach = {values}
            """
        )
    )
    return p


def parts(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.glob("part-*.parquet"))}


def test_missing_chunks_are_rerun_and_nothing_else(tmp_path):
    exp = load_experiment(experiment(tmp_path))
    out = tmp_path / "out"
    first = run_sweep(exp, out, workers=1, engine="toy")
    assert first.chunks_run == 6
    ref = parts(out)
    (out / "part-000001.parquet").unlink()
    (out / "part-000004.parquet").unlink()
    (out / ".part-000005.parquet.tmp-999").write_bytes(b"half a file")  # left by a kill mid-write
    again = run_sweep(exp, out, workers=1, engine="toy")
    assert again.chunks_run == 2 and again.runs_run == 4
    assert parts(out) == ref
    assert not list(out.glob(".*tmp*"))
    done = run_sweep(exp, out, workers=1, engine="toy")
    assert done.chunks_run == 0
    sessions = json.loads((out / MANIFEST).read_text())["sessions"]
    assert [s["chunks_run"] for s in sessions] == [6, 2, 0]


def test_temporary_files_are_invisible_to_readers(tmp_path):
    exp = load_experiment(experiment(tmp_path))
    out = tmp_path / "out"
    run_sweep(exp, out, workers=1, engine="toy")
    (out / ".part-000009.parquet.tmp-1").write_bytes(b"garbage")
    assert len(pd.read_parquet(out)) == 12


@pytest.mark.parametrize(
    "change,words",
    [
        ({"steps": 13}, ["steps 12 -> 13"]),
        ({"n": 160}, ["parameters n_citizens 150 -> 160"]),
        ({"values": "[0.0, 0.3, 0.7]"}, ["factors changed", "points changed"]),
    ],
)
def test_a_changed_experiment_is_refused(tmp_path, change, words):
    out = tmp_path / "out"
    run_sweep(load_experiment(experiment(tmp_path)), out, workers=1, engine="toy")
    before = parts(out)
    changed = load_experiment(experiment(tmp_path, **change))
    with pytest.raises(UserError) as err:
        run_sweep(changed, out, workers=1, engine="toy")
    msg = str(err.value)
    assert msg.startswith(f"--out {out}: holds results of a different experiment")
    assert "refusing to mix them" in msg
    for w in words:
        assert w in msg
    assert parts(out) == before


def test_a_changed_engine_is_refused(tmp_path):
    out = tmp_path / "out"
    exp = load_experiment(experiment(tmp_path))
    run_sweep(exp, out, workers=1, engine="toy")
    with pytest.raises(UserError, match="engine 'toy' -> 'batch'"):
        run_sweep(exp, out, workers=1, engine="batch")


def test_other_directories_are_refused(tmp_path):
    exp = load_experiment(experiment(tmp_path))
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="exists and is not a civsim sweep directory"):
        run_sweep(exp, other, workers=1, engine="toy")
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(UserError, match="is a file, not a directory"):
        run_sweep(exp, afile, workers=1, engine="toy")


def _cli(exp: Path, out: Path, workers: int = 1) -> list[str]:
    cmd = [sys.executable, "-m", "civsim.experiments", "sweep", str(exp), "--out", str(out)]
    return [*cmd, "--workers", str(workers), "-q"]


def _start_and_stop_after_first_chunk(cmd: list[str], out: Path, sig: int) -> subprocess.CompletedProcess:
    # its own session, so SIGINT can go to the whole process group as a terminal's Ctrl-C does
    proc = subprocess.Popen(
        cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    deadline = time.monotonic() + 120
    while not list(out.glob("part-*.parquet")):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"sweep ended before writing a chunk: {proc.communicate()}")
        time.sleep(0.005)
    if sig == signal.SIGINT:
        os.killpg(proc.pid, sig)  # Ctrl-C: the main process and its workers
    else:
        os.kill(proc.pid, sig)  # kill -9 of the sweep process itself
    stdout, stderr = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)


@pytest.fixture(scope="module")
def real_sweep(tmp_path_factory):
    """A real-engine sweep (6 chunks of ~0.2 s) and its uninterrupted result."""
    tmp = tmp_path_factory.mktemp("real")
    exp = experiment(tmp, steps=60, n=5000, name="real")
    ref = tmp / "reference"
    run_sweep(load_experiment(exp), ref, workers=1)
    return exp, ref


def test_kill_9_then_same_command_resumes_to_the_same_dataset(real_sweep, tmp_path):
    exp, ref = real_sweep
    out = tmp_path / "out"
    cmd = _cli(exp, out)
    killed = _start_and_stop_after_first_chunk(cmd, out, signal.SIGKILL)
    assert killed.returncode == -signal.SIGKILL
    survived = len(list(out.glob("part-*.parquet")))
    assert 1 <= survived < 6, "the kill came too late to test anything"

    again = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"{12 - 2 * survived} of 12 runs" in again.stdout
    assert parts(out) == parts(ref)
    pd.testing.assert_frame_equal(pd.read_parquet(out), pd.read_parquet(ref))
    assert json.loads((out / MANIFEST).read_text())["status"] == "complete"


@pytest.mark.parametrize("workers", [1, 2], ids=["in-process", "dask"])
def test_ctrl_c_saves_finished_chunks_and_says_how_to_resume(real_sweep, tmp_path, workers):
    exp, ref = real_sweep
    out = tmp_path / "out"
    stopped = _start_and_stop_after_first_chunk(_cli(exp, out, workers), out, signal.SIGINT)
    assert stopped.returncode == 130, stopped.stderr
    assert "run the same command again" in stopped.stderr
    assert "Traceback" not in stopped.stderr
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["status"] == "interrupted" and manifest["sessions"][-1]["status"] == "interrupted"
    res = run_sweep(load_experiment(exp), out, workers=1)
    assert res.chunks_run < 6
    assert parts(out) == parts(ref)


def test_a_second_sweep_into_the_same_directory_is_refused_while_the_first_runs(tmp_path):
    from civsim.experiments.storage import ResultStore

    exp = load_experiment(experiment(tmp_path))
    out = tmp_path / "out"
    with ResultStore(out).lock():  # as if another process were sweeping here
        with pytest.raises(UserError, match=rf"another sweep \(pid {os.getpid()}\) is writing here"):
            run_sweep(exp, out, workers=1, engine="toy")
    assert run_sweep(exp, out, workers=1, engine="toy").chunks_run == 6  # released: fine again
    assert len(pd.read_parquet(out)) == 12


def test_results_of_other_model_code_are_refused(tmp_path, monkeypatch):
    from civsim.experiments import runner

    exp = load_experiment(experiment(tmp_path))
    out = tmp_path / "out"
    run_sweep(exp, out, workers=1)
    monkeypatch.setattr(runner, "model_fingerprint", lambda engine="batch": "0123456789abcdef")
    with pytest.raises(UserError, match="the model's code changed since these results were made"):
        run_sweep(exp, out, workers=1)
