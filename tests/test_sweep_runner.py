"""The sweep runner: seeds, chunking, outputs, and identical results on every backend."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from civsim.experiments.runner import make_task, plan_sweep, run_chunk, run_sweep
from civsim.experiments.spec import load_experiment
from civsim.experiments.storage import MANIFEST


def experiment(
    tmp_path: Path, *, chunk: int = 3, reps: int = 2, steps: int = 6, extra: str = "", name: str = "e"
) -> Path:
    p = tmp_path / f"{name}.toml"
    p.write_text(
        textwrap.dedent(
            f"""
            [experiment]
            name = "{name}"
            seed = 42
            steps = {steps}
            replicates = {reps}
            chunk_size = {chunk}

            [params]
            n_citizens = 120
            n_neighbourhoods = 2
            n_agencies = 4

            [factors]
            austerity_rate = [0.0, -0.09]
            outreach = [0.0, 0.4, 0.8]
            """
        )
        + textwrap.dedent(extra)
    )
    return p


def parts(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.glob("part-*.parquet"))}


def test_runs_seeds_and_chunks(tmp_path):
    plan = plan_sweep(load_experiment(experiment(tmp_path)), engine="toy")
    assert plan.n_runs == 12 and len(plan.design.points) == 6
    assert plan.chunks == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11]]
    assert plan.run_of(7) == (3, 1)
    ss = plan.seed_of(7)
    assert ss.entropy == 42 and ss.spawn_key == (3, 1)
    assert plan.citizen_steps([0, 1]) == 2 * 120 * 6


def test_structural_factors_are_never_batched_together(tmp_path):
    exp = experiment(tmp_path, chunk=100, extra="n_agencies = [4, 5]\n")
    plan = plan_sweep(load_experiment(exp), engine="toy")
    for runs in plan.chunks:
        agencies = {plan.resolved[plan.run_of(r)[0]]["n_agencies"] for r in runs}
        assert len(agencies) == 1
    assert sorted(r for c in plan.chunks for r in c) == list(range(plan.n_runs))


def test_a_run_does_not_depend_on_its_chunk(tmp_path):
    """Real engine: chunk sizes 1 and 5 give the same rows for every run."""
    a = plan_sweep(load_experiment(experiment(tmp_path, chunk=1, name="a")))
    b = plan_sweep(load_experiment(experiment(tmp_path, chunk=5, name="b")))
    rows_a = pd.concat([run_chunk(make_task(a, c)).table.to_pandas() for c in range(len(a.chunks))])
    rows_b = pd.concat([run_chunk(make_task(b, c)).table.to_pandas() for c in range(len(b.chunks))])
    pd.testing.assert_frame_equal(
        rows_a.reset_index(drop=True), rows_b.reset_index(drop=True), check_exact=True
    )
    # and replicates differ from each other (the seeds are really per run)
    assert rows_a["final_engagement"].nunique() > 1


def test_summary_rows(tmp_path):
    out = tmp_path / "out"
    res = run_sweep(load_experiment(experiment(tmp_path)), out, workers=1)
    assert res.n_runs == 12 and res.runs_run == 12 and res.backend == "inline"
    df = pd.read_parquet(out)
    assert len(df) == 12
    assert list(df.columns[:5]) == ["run", "point", "replicate", "austerity_rate", "outreach"]
    assert {"final_outcome_index", "mean_engagement", "shock_dip"} <= set(df.columns)
    assert "final_networks" not in df.columns  # only the chosen metrics (defaults) are kept
    assert df["run"].tolist() == list(range(12))
    assert df.groupby("point")["austerity_rate"].nunique().eq(1).all()
    man = (out / MANIFEST).read_text()
    assert '"status": "complete"' in man and '"seed_rule"' in man


def test_series_rows_every_k_steps(tmp_path):
    exp = experiment(
        tmp_path,
        steps=7,
        extra='[output]\nkeep = "series"\nevery = 3\n'
        'metrics = ["outcome_index", "engagement_marginalised"]\n',
    )
    out = tmp_path / "out"
    run_sweep(load_experiment(exp), out, workers=1)
    df = pd.read_parquet(out)
    assert sorted(df["step"].unique()) == [0, 3, 6, 7]
    assert len(df) == 12 * 4
    assert list(df.columns) == [
        "run",
        "point",
        "replicate",
        "austerity_rate",
        "outreach",
        "step",
        "outcome_index",
        "engagement_marginalised",
    ]


def test_inline_process_and_dask_write_identical_files(tmp_path):
    """Determinism across worker counts and backends, with a LocalCluster on 127.0.0.1."""
    from distributed import LocalCluster

    exp = load_experiment(experiment(tmp_path, chunk=2, steps=8))
    inline = tmp_path / "inline"
    run_sweep(exp, inline, workers=1)
    ref = parts(inline)
    assert len(ref) == 6

    proc = tmp_path / "process"
    run_sweep(exp, proc, workers=2, backend="process")
    assert parts(proc) == ref

    local = tmp_path / "dask_local"
    res = run_sweep(exp, local, workers=2)  # --workers 2: the default local Dask cluster
    assert res.backend == "dask" and res.workers == 2
    assert parts(local) == ref

    with LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None, processes=True
    ) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        remote = tmp_path / "dask_scheduler"
        res = run_sweep(exp, remote, scheduler=cluster.scheduler_address)
        assert res.backend == "dask"
    assert parts(remote) == ref
    pd.testing.assert_frame_equal(pd.read_parquet(inline), pd.read_parquet(remote))


def test_unreachable_scheduler_is_a_user_error(tmp_path, monkeypatch):
    from civsim.errors import UserError
    from civsim.experiments import executors

    monkeypatch.setattr(executors, "SCHEDULER_TIMEOUT", "1s")

    exp = load_experiment(experiment(tmp_path))
    with pytest.raises(UserError, match=r"--scheduler tcp://127.0.0.1:9: cannot connect"):
        run_sweep(exp, tmp_path / "o", scheduler="tcp://127.0.0.1:9", engine="toy")


def test_progress_callback_counts_runs(tmp_path):
    seen = []
    run_sweep(
        load_experiment(experiment(tmp_path)),
        tmp_path / "o",
        workers=1,
        engine="toy",
        progress=lambda d, t: seen.append((d, t)),
    )
    assert seen == [(3, 12), (6, 12), (9, 12), (12, 12)]


def test_throughput_is_recorded(tmp_path):
    res = run_sweep(load_experiment(experiment(tmp_path)), tmp_path / "o", workers=1)
    assert res.citizen_steps == 12 * 120 * 6
    assert res.citizen_steps_per_second > 0
    assert np.isfinite(res.session["citizen_steps_per_second"])


def test_malloc_is_tuned_only_where_dask_fixed_the_trim_threshold(monkeypatch):
    import sys as _sys

    from civsim.experiments import executors

    monkeypatch.setattr(executors, "_MALLOC_TUNED", False)
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    assert executors.tune_malloc() is False
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    assert executors.tune_malloc() is _sys.platform.startswith("linux")
    assert executors.tune_malloc() is False  # once per process


def test_local_dask_workers_run_with_glibc_adaptive_malloc():
    """Workers either never see MALLOC_TRIM_THRESHOLD_ or undo it before their first chunk."""
    import os

    from civsim.experiments.executors import open_executor

    before = dict(os.environ)
    with open_executor("dask", 1) as ex:
        env, tuned = ex.submit(_worker_malloc_state).result()
    assert env is None or tuned
    assert dict(os.environ) == before  # the nanny's settings did not leak into this process


def _worker_malloc_state() -> tuple[str | None, bool]:
    import os

    from civsim.experiments import executors

    env = os.environ.get("MALLOC_TRIM_THRESHOLD_")
    executors.tune_malloc()
    return env, executors._MALLOC_TUNED
