"""Memory budget and concurrency limits (issue 11): refused before anything large is allocated."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
import tracemalloc
from pathlib import Path

import pytest

from civsim import limits
from civsim.errors import UserError
from civsim.experiments.spec import load_experiment

CIVSIM = Path(sys.executable).parent / "civsim"
REPO = Path(__file__).resolve().parents[1]


def civsim(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 120):
    import os

    full = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200", "NO_COLOR": "1", **(env or {})}
    return subprocess.run(
        [str(CIVSIM), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=full
    )


def one_error_line(res) -> str:
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert "Traceback" not in res.stderr + res.stdout
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("error:")
    return lines[0]


# ---------------------------------------------------------------- estimates and the budget


def test_parse_size():
    assert limits.parse_size("4G") == 4 * 2**30
    assert limits.parse_size("512M") == 512 * 2**20
    assert limits.parse_size("1.5GB") == int(1.5 * 2**30)
    assert limits.parse_size("1000") == 1000
    assert limits.parse_size("off") is None
    for bad in ("lots", "-1G", "0", "4X"):
        with pytest.raises(UserError, match="CIVSIM_MEMORY_LIMIT"):
            limits.parse_size(bad)


def test_estimates_scale_with_citizens_runs_and_engine():
    batch = limits.run_bytes(1_000_000, 8, 120, "batch")
    assert 8 * 1_000_000 * 200 <= batch < 8 * 1_000_000 * 200 * 1.1
    assert limits.run_bytes(1_000_000, 8, 120, "mesa") < batch  # Mesa holds one run at a time
    assert limits.run_bytes(2_000_000, 10_000, 120, "batch") > 4e12
    assert limits.comparison_bytes(4, 16, 120, 2_000_000) > 16 * 2_000_000 * 200
    one = limits.sweep_bytes(100, 10_000, 8, 120, 1)
    assert limits.sweep_bytes(100, 10_000, 8, 120, 4) > 4 * (one - 100 * limits.BYTES_PER_POINT)
    assert limits.sweep_bytes(10**6, 100, 4, 12, 1) >= 10**6 * limits.BYTES_PER_POINT


def test_budget_is_the_smaller_of_limit_and_available(monkeypatch):
    monkeypatch.setattr(limits, "available_bytes", lambda: 8 * 2**30)
    monkeypatch.setenv(limits.ENV_LIMIT, "1G")
    assert limits.budget() == (2**30, "CIVSIM_MEMORY_LIMIT=1G")
    monkeypatch.setenv(limits.ENV_LIMIT, "64G")
    assert limits.budget()[0] == 8 * 2**30
    monkeypatch.setenv(limits.ENV_LIMIT, "off")
    assert limits.budget()[0] is None
    limits.check(10**15, "anything")  # off: no refusal
    monkeypatch.delenv(limits.ENV_LIMIT)
    with pytest.raises(limits.MemoryBudgetError) as err:
        limits.check(9 * 2**30, "a big job", "make it smaller")
    msg = str(err.value)
    assert "a big job needs about" in msg and "make it smaller" in msg and "CIVSIM_MEMORY_LIMIT" in msg


def test_available_memory_is_measured_here():
    avail = limits.available_bytes()
    assert avail is None or avail > 0


def test_the_estimate_is_not_below_what_a_run_uses():
    """A batch run's traced peak stays under the estimate (the estimate is a safe bound)."""
    from civsim.simulate import simulate

    tracemalloc.start()
    simulate({"n_citizens": 20_000, "n_neighbourhoods": 4}, 0, 6, 4, "batch")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak <= limits.run_bytes(20_000, 4, 6, "batch") + 64 * 2**20


# ---------------------------------------------------------------- CLI: refused before allocating


def test_cli_run_too_big_is_refused_at_once_in_one_line(tmp_path):
    t0 = time.perf_counter()
    res = civsim("run", "baseline", "--citizens", "2000000", "--reps", "10000", "--out", str(tmp_path / "o"))
    line = one_error_line(res)
    assert "2,000,000 citizens x 10,000 run(s)" in line and "CIVSIM_MEMORY_LIMIT" in line
    assert time.perf_counter() - t0 < 30
    assert not (tmp_path / "o").exists()


def test_cli_run_respects_the_configured_limit(tmp_path):
    res = civsim(
        "run", "baseline", "--citizens", "200000", "--reps", "8", "--steps", "2",
        "--out", str(tmp_path / "o"), env={"CIVSIM_MEMORY_LIMIT": "300M"},
    )  # fmt: skip
    assert "the limit is 300 MB (CIVSIM_MEMORY_LIMIT=300M)" in one_error_line(res)
    res = civsim(
        "run", "baseline", "--steps", "2", "--out", str(tmp_path / "o"), env={"CIVSIM_MEMORY_LIMIT": "x"}
    )
    assert "CIVSIM_MEMORY_LIMIT='x' is not allowed" in one_error_line(res)


def write_exp(tmp_path: Path, body: str, name: str = "big") -> Path:
    p = tmp_path / f"{name}.toml"
    p.write_text(textwrap.dedent(body))
    return p


def test_huge_grid_is_refused_before_it_is_built(tmp_path):
    p = write_exp(
        tmp_path,
        """
        [experiment]
        name = "big"
        seed = 1
        steps = 2
        [factors]
        outreach = { range = [0.0, 1.0], num = 100000 }
        austerity_rate = { range = [-0.1, 0.1], num = 100000 }
        """,
    )
    tracemalloc.start()
    t0 = time.perf_counter()
    with pytest.raises(UserError) as err:
        load_experiment(p)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert "10,000,000,000 runs" in str(err.value) and "at most 10,000,000" in str(err.value)
    assert time.perf_counter() - t0 < 5 and peak < 50 * 2**20


def test_huge_sobol_is_refused_before_it_is_built(tmp_path):
    p = write_exp(
        tmp_path,
        """
        [experiment]
        name = "big"
        seed = 1
        steps = 2
        [factors]
        outreach = { range = [0.0, 1.0] }
        austerity_rate = { range = [-0.1, 0.1] }
        [design]
        kind = "sobol"
        samples = 8388608
        """,
    )
    t0 = time.perf_counter()
    with pytest.raises(UserError, match="33,554,432 points"):
        load_experiment(p)
    assert time.perf_counter() - t0 < 5


def test_sweep_over_the_memory_budget_is_refused_before_the_design_is_built(tmp_path, monkeypatch):
    from civsim.experiments import runner

    p = write_exp(
        tmp_path,
        """
        [experiment]
        name = "wide"
        seed = 1
        steps = 2
        replicates = 1
        [params]
        n_citizens = 2000000
        [factors]
        outreach = { range = [0.0, 1.0] }
        [design]
        kind = "lhs"
        samples = 64
        """,
    )
    exp = load_experiment(p)
    built = []
    monkeypatch.setattr(runner, "build_design", lambda *a: built.append(a))
    monkeypatch.setenv(limits.ENV_LIMIT, "500M")
    with pytest.raises(limits.MemoryBudgetError, match="big.toml: 64 points"):
        runner.plan_sweep(exp)
    assert built == []
    res = civsim("sweep", str(p), "--out", str(tmp_path / "o"), env={"CIVSIM_MEMORY_LIMIT": "500M"})
    assert "needs about" in one_error_line(res)
    assert not (tmp_path / "o").exists()


def test_bogus_hidden_engine_is_one_line(tmp_path):
    p = write_exp(tmp_path, '[experiment]\nname = "e"\nseed = 1\nsteps = 2\n', name="e")
    res = civsim("sweep", str(p), "--engine", "bogus", "--out", str(tmp_path / "o"))
    assert "--engine 'bogus' is not allowed" in one_error_line(res)


# ---------------------------------------------------------------- the app's heavy jobs


def test_app_comparison_over_the_per_job_limit_is_refused_before_running(monkeypatch):
    from civsim.app import comparison

    monkeypatch.setattr(comparison, "_run_comparison", lambda *a, **k: pytest.fail("a model was built"))
    specs = [comparison.ScenarioSpec("a"), comparison.ScenarioSpec("b")]
    with pytest.raises(limits.MemoryBudgetError, match="allows 1 GB per run"):
        comparison.run_comparison(specs, 16, 120, n_citizens=2_000_000)


def test_app_live_model_over_the_limit_is_a_message(monkeypatch):
    from civsim.app import common

    monkeypatch.setenv(limits.ENV_APP_JOB, "10M")
    live, error = common.make_live({"n_citizens": 2_000_000}, 0)
    assert live is None and "a live model of 2,000,000 citizens" in error and "10 MB" in error


def test_app_limits_concurrent_heavy_jobs(monkeypatch):
    monkeypatch.setenv(limits.ENV_APP_JOBS, "2")
    started, release = threading.Barrier(3), threading.Event()

    def hold():
        with limits.heavy_job(1000, "job"):
            started.wait()
            release.wait(10)

    threads = [threading.Thread(target=hold) for _ in range(2)]
    for t in threads:
        t.start()
    started.wait()
    try:
        assert limits.jobs_running() == 2
        with pytest.raises(limits.BusyError, match="already running 2 heavy job"):
            with limits.heavy_job(1000, "third"):
                pass
    finally:
        release.set()
        for t in threads:
            t.join()
    assert limits.jobs_running() == 0
    with limits.heavy_job(1000, "now fine"):
        assert limits.jobs_running() == 1


def test_app_comparison_small_still_runs():
    from civsim.app import comparison

    frame = comparison.run_comparison(
        [comparison.ScenarioSpec("a"), comparison.ScenarioSpec("b", overrides={"outreach": 0.5})],
        2, 3, n_citizens=200,
    )  # fmt: skip
    assert set(frame["scenario"]) == {"a", "b"} and limits.jobs_running() == 0
