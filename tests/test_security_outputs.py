"""Outputs that cannot be subverted (issue 11): lock, names, verified chunks, run directories, cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from civsim.errors import UserError
from civsim.experiments.results import load_results
from civsim.experiments.runner import run_sweep
from civsim.experiments.spec import load_experiment
from civsim.experiments.storage import JOURNAL, LOCK, MANIFEST

CIVSIM = Path(sys.executable).parent / "civsim"
REPO = Path(__file__).resolve().parents[1]


def civsim(*args: str, cwd: Path | None = None, timeout: float = 180):
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run(
        [str(CIVSIM), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env
    )


def one_error_line(res) -> str:
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert "Traceback" not in res.stderr + res.stdout
    assert len(lines) == 1 and lines[0].startswith("error:"), res.stderr
    return lines[0]


def experiment(tmp_path: Path, name: str = "t", extra: str = "") -> Path:
    p = tmp_path / f"{name}.toml"
    p.write_text(
        textwrap.dedent(
            f"""
            [experiment]
            name = "{name}"
            seed = 3
            steps = 4
            replicates = 2
            chunk_size = 2
            {extra}
            [params]
            n_citizens = 60
            n_neighbourhoods = 2

            [factors]
            outreach = [0.0, 0.3, 0.6]
            """
        )
    )
    return p


def parts(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.glob("part-*.parquet"))}


@pytest.fixture
def swept(tmp_path):
    exp = load_experiment(experiment(tmp_path))
    out = tmp_path / "out"
    run_sweep(exp, out, workers=1, engine="toy")
    return exp, out


# ---------------------------------------------------------------- lock and names


def test_lock_never_follows_a_symlink(tmp_path):
    exp = load_experiment(experiment(tmp_path))
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (out / LOCK).symlink_to(victim)
    with pytest.raises(UserError, match="lock file"):
        run_sweep(exp, out, workers=1, engine="toy")
    assert victim.read_text() == "precious\n"


@pytest.mark.parametrize(
    "name", ["../../../tmp/escape", "/tmp/escape", "a/b", "..", ".hidden", "", "x" * 101]
)
def test_experiment_name_cannot_be_a_path(tmp_path, name):
    p = tmp_path / "e.toml"
    p.write_text(f'[experiment]\nname = "{name}"\nseed = 1\nsteps = 2\n')
    with pytest.raises(UserError, match=r"\[experiment\] name.*not allowed"):
        load_experiment(p)


def test_default_output_of_a_sweep_stays_under_runs(tmp_path):
    p = experiment(tmp_path, name="fine-name_1.0")
    res = civsim("sweep", str(p), "--engine", "toy", "--workers", "1", "-q", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "runs" / "fine-name_1.0" / MANIFEST).is_file()


# ---------------------------------------------------------------- verified chunks


def damage(out: Path) -> dict[str, str]:
    files = sorted(out.glob("part-*.parquet"))
    truncated, empty, flipped = files[0], files[1], files[2]
    data = truncated.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    empty.write_bytes(b"")
    raw = bytearray(flipped.read_bytes())
    raw[60] ^= 0xFF  # in the first column chunk: same size, readable footer: only the hash notices
    flipped.write_bytes(bytes(raw))
    return {"truncated": truncated.name, "empty": empty.name, "flipped": flipped.name}


def test_every_chunk_write_records_rows_and_hash(swept):
    _, out = swept
    manifest = json.loads((out / MANIFEST).read_text())
    files = manifest["chunk_files"]
    assert len(files) == manifest["n_chunks"] == len(list(out.glob("part-*.parquet")))
    assert all(len(r["sha256"]) == 64 and r["rows"] == 2 for r in files.values())
    journal = [json.loads(x) for x in (out / JOURNAL).read_text().splitlines()]
    assert sorted(r["chunk"] for r in journal) == list(range(manifest["n_chunks"]))


def test_report_names_a_damaged_chunk_instead_of_crashing(swept):
    _, out = swept
    names = damage(out)
    with pytest.raises(UserError) as err:
        load_results(out)
    assert names["truncated"] in str(err.value) and "damaged chunk" in str(err.value)
    res = civsim("report", str(out))
    line = one_error_line(res)
    assert "part-000000.parquet: damaged chunk" in line and "and 2 more" in line and "civsim sweep" in line


def test_resume_redoes_exactly_the_damaged_chunks(swept, tmp_path):
    exp, out = swept
    ref = parts(out)
    damage(out)
    res = run_sweep(exp, out, workers=1, engine="toy")
    assert res.chunks_run == 3 and len(res.damaged) == 3
    assert {"empty file"} <= set(res.damaged.values())
    assert any("SHA-256" in why for why in res.damaged.values()), res.damaged
    assert parts(out) == ref
    manifest, frame = load_results(out)
    assert manifest["status"] == "complete" and len(frame) == 6


def test_a_chunk_written_without_a_record_is_checked_by_footer_and_rows(swept):
    exp, out = swept
    (out / JOURNAL).unlink()
    m = json.loads((out / MANIFEST).read_text())
    del m["chunk_files"]
    (out / MANIFEST).write_text(json.dumps(m))
    assert run_sweep(exp, out, workers=1, engine="toy").chunks_run == 0  # sound files kept
    first = sorted(out.glob("part-*.parquet"))[0]
    import pyarrow.parquet as pq

    t = pq.read_table(first)
    pq.write_table(t.slice(0, 1), first)  # readable, one row short
    res = run_sweep(exp, out, workers=1, engine="toy")
    assert res.chunks_run == 1 and "1 rows, 2 expected" in res.damaged[0]


@pytest.mark.parametrize(
    "text",
    ["{}", "[1, 2]", '"x"', "not json", '{"hash": 1, "n_chunks": "two"}', "{" * 100_000],
    ids=["empty-object", "list", "string", "not-json", "wrong-types", "deep"],
)
def test_malformed_manifest_is_one_line_for_report_and_sensitivity(swept, text):
    _, out = swept
    (out / MANIFEST).write_text(text)
    for cmd in ("report", "sensitivity"):
        line = one_error_line(civsim(cmd, str(out)))
        assert MANIFEST in line, line


def test_manifest_with_plausible_but_wrong_contents_is_one_line(swept):
    _, out = swept
    m = json.loads((out / MANIFEST).read_text())
    m["identity"]["output"]["metrics"] = [1, 2]
    m["design"]["kind"] = "sobol"
    (out / MANIFEST).write_text(json.dumps(m))
    for cmd in ("report", "sensitivity"):
        one_error_line(civsim(cmd, str(out)))


def test_report_to_a_file_is_one_line(swept, tmp_path):
    _, out = swept
    f = tmp_path / "afile"
    f.write_text("x")
    assert "is a file" in one_error_line(civsim("report", str(out), "--to", str(f)))
    assert "is a file" in one_error_line(civsim("report", str(out), "--to", str(f / "inside")))
    assert "is a file" in one_error_line(civsim("sensitivity", str(out), "--to", str(f)))


def test_failed_scheduler_leaves_no_running_manifest(tmp_path):
    exp = load_experiment(experiment(tmp_path))
    out = tmp_path / "out"
    with pytest.raises(UserError):
        run_sweep(exp, out, scheduler="tcp://127.0.0.1:9", engine="toy")
    m = json.loads((out / MANIFEST).read_text())
    assert m["status"] == "failed" and m["sessions"][-1]["status"] == "failed"


# ---------------------------------------------------------------- civsim run --out


def test_run_twice_into_the_same_directory_replaces_the_run_whole(tmp_path):
    out = tmp_path / "o"
    first = civsim("run", "baseline", "--steps", "2", "--citizens", "100", "--out", str(out))
    assert first.returncode == 0, first.stderr
    again = civsim(
        "run", "baseline", "--steps", "3", "--citizens", "100", "--format", "parquet", "--out", str(out)
    )
    assert again.returncode == 0, again.stderr
    names = {p.name for p in out.iterdir()}
    assert names == {"timeseries.parquet", "summary.json", "manifest.json", "timeseries.png"}
    assert json.loads((out / "manifest.json").read_text())["steps"] == 3
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporaries left


def test_run_refuses_a_sweep_or_other_files_unless_forced(swept, tmp_path):
    _, sweep_dir = swept
    line = one_error_line(civsim("run", "baseline", "--steps", "2", "--out", str(sweep_dir)))
    assert "holds a sweep" in line and "--force" in line
    assert load_results(sweep_dir)[0]["status"] == "complete"  # untouched
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    assert "not a civsim run" in one_error_line(
        civsim("run", "baseline", "--steps", "2", "--out", str(other))
    )
    assert (other / "notes.txt").read_text() == "mine"
    forced = civsim("run", "baseline", "--steps", "2", "--citizens", "100", "--out", str(other), "--force")
    assert forced.returncode == 0, forced.stderr
    assert not (other / "notes.txt").exists() and (other / "manifest.json").is_file()


def test_run_force_never_replaces_the_current_directory(tmp_path):
    (tmp_path / "keep.txt").write_text("x")
    line = one_error_line(civsim("run", "baseline", "--steps", "2", "--out", ".", "--force", cwd=tmp_path))
    assert "current directory" in line and (tmp_path / "keep.txt").exists()


def test_run_destination_problems_are_found_before_simulating(tmp_path):
    f = tmp_path / "afile"
    f.write_text("x")
    for out in (f, f / "inside"):
        line = one_error_line(civsim("run", "baseline", "--citizens", "2000000", "--out", str(out)))
        assert "is a file" in line
    assert f.read_text() == "x"


def test_a_failed_write_keeps_the_earlier_run(tmp_path, monkeypatch):
    from civsim import simulate

    out = tmp_path / "o"
    ts, summaries = simulate.simulate({"n_citizens": 100}, 0, 2, 1, "batch")
    simulate.write_outputs(out, ts, summaries, {"steps": 2}, "csv")
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def full_disk(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(simulate, "plot_timeseries", full_disk)
    with pytest.raises(UserError, match="No space left on device"):
        simulate.write_outputs(out, ts, summaries, {"steps": 3}, "parquet")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["o"]


def test_make_run_twice(tmp_path):
    """`make run` is `civsim run baseline --out runs/baseline`: the same command twice just works."""
    for _ in range(2):
        res = civsim(
            "run", "baseline", "--steps", "2", "--citizens", "100", "--out", "runs/baseline", cwd=tmp_path
        )
        assert res.returncode == 0, res.stderr
    assert len(pd.read_csv(tmp_path / "runs" / "baseline" / "timeseries.csv")) == 3


# ---------------------------------------------------------------- app server and numba cache


def test_empty_host_is_refused():
    from civsim.app import server

    for host in ("", " ", "127.0.0.1 "):
        with pytest.raises(UserError, match="--host .* is not allowed"):
            server.check_port(host, 0)
    res = civsim("app", "--host", "", "--port", "8775")
    assert "--host '' is not allowed" in one_error_line(res)


def test_server_culls_abandoned_sessions_within_minutes(monkeypatch):
    import solara.util

    from civsim.app import server

    monkeypatch.delenv("SOLARA_KERNEL_CULL_TIMEOUT", raising=False)
    monkeypatch.delenv("SOLARA_KERNEL_MAX_COUNT", raising=False)
    env = server.environment()
    assert solara.util.parse_timedelta(env["SOLARA_KERNEL_CULL_TIMEOUT"]) <= 600
    assert int(env["SOLARA_KERNEL_MAX_COUNT"]) >= 1
    server.check_limits(env)
    with pytest.raises(UserError, match="SOLARA_KERNEL_CULL_TIMEOUT"):
        server.check_limits({**env, "SOLARA_KERNEL_CULL_TIMEOUT": "soon"})


def test_numba_cache_is_private_or_absent(tmp_path, monkeypatch):
    from civsim import kernels

    monkeypatch.setenv("CIVSIM_NUMBA_CACHE", str(tmp_path / "cache"))
    path = Path(kernels._cache_dir())
    assert path.is_dir() and (path.stat().st_mode & 0o777) == 0o700
    assert path.parent.stat().st_uid == os.getuid()
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setenv("CIVSIM_NUMBA_CACHE", str(shared))
    assert kernels._cache_dir() is None  # writable by others: no disk cache
    if os.getuid() == 0:
        planted = tmp_path / "planted"
        planted.mkdir(mode=0o700)
        os.chown(planted, 65534, 65534)  # owned by nobody
        monkeypatch.setenv("CIVSIM_NUMBA_CACHE", str(planted))
        assert kernels._cache_dir() is None
    monkeypatch.setenv("CIVSIM_NUMBA_CACHE", "off")
    assert kernels._cache_dir() is None


def test_read_only_places_are_one_line_before_any_work(swept, tmp_path):
    """/proc is read-only even for root: a stand-in for a read-only file system."""
    line = one_error_line(civsim("run", "baseline", "--citizens", "2000000", "--out", "/proc/civsim-out"))
    assert "--out /proc/civsim-out: cannot write there" in line
    _, out = swept
    assert "/proc/civsim-report" in one_error_line(civsim("report", str(out), "--to", "/proc/civsim-report"))


def test_sweep_out_on_or_inside_a_file_is_one_line(tmp_path):
    p = experiment(tmp_path)
    f = tmp_path / "afile"
    f.write_text("x")
    for out in (f, f / "inside"):
        one_error_line(civsim("sweep", str(p), "--engine", "toy", "--workers", "1", "--out", str(out)))
    assert f.read_text() == "x"
