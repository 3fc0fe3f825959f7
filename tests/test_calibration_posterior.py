"""Using a posterior: weighted draws, `civsim run --posterior`, and what the manifest records."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from civsim.calibration.posterior import draw_points, load_posterior, write_posterior
from civsim.errors import UserError

CIVSIM = Path(sys.executable).parent / "civsim"


def make(tmp_path: Path, weights) -> Path:
    d = tmp_path / "cal"
    d.mkdir()
    write_posterior(
        d, np.array([[0.1, 0.01], [0.9, 0.2]]), np.array(weights, dtype=float), ["outreach", "burnout_rate"]
    )
    return d


def test_draws_follow_the_weights(tmp_path):
    post = load_posterior(make(tmp_path, [1.0, 3.0]))
    draws = draw_points(post, 4000, seed=2)
    share = np.mean([d["outreach"] == 0.9 for d in draws])
    assert share == pytest.approx(0.75, abs=0.03)
    assert draws[:10] == draw_points(post, 4000, seed=2)[:10]  # reproducible from the seed
    (tmp_path / "x").mkdir()
    only = draw_points(load_posterior(make(tmp_path / "x", [1.0, 0.0])), 50, 1)
    assert {d["outreach"] for d in only} == {0.1}


def test_bad_posteriors_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="no posterior.parquet"):
        load_posterior(tmp_path)
    d = make(tmp_path, [1.0, 1.0])
    import pandas as pd

    pd.DataFrame({"not_a_param": [1.0], "weight": [1.0]}).to_parquet(d / "posterior.parquet")
    with pytest.raises(UserError, match="not_a_param"):
        load_posterior(d)


def test_run_with_posterior_records_it_and_varies_parameters(tmp_path):
    d = make(tmp_path, [1.0, 1.0])
    out = tmp_path / "run"
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    r = subprocess.run(
        [
            str(CIVSIM),
            "run",
            "baseline",
            "--posterior",
            str(d),
            "--reps",
            "6",
            "--citizens",
            "100",
            "--steps",
            "6",
            "--seed",
            "3",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    m = json.loads((out / "manifest.json").read_text())
    assert m["engine"] == "batch" and m["reps"] == 6
    assert m["posterior"]["sha256"] == hashlib.sha256((d / "posterior.parquet").read_bytes()).hexdigest()
    assert m["posterior"]["path"] == str((d / "posterior.parquet").resolve())
    draws = m["posterior"]["draws"]
    assert len(draws) == 6 and {x["outreach"] for x in draws} == {0.1, 0.9}
    bad = subprocess.run(
        [
            str(CIVSIM),
            "run",
            "baseline",
            "--posterior",
            str(tmp_path / "nothing"),
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_compare_with_a_posterior_gives_civsim_runs_numbers(tmp_path):
    """Compare's calibrated switch: replicate r takes draw r in every scenario, as civsim run --posterior."""
    from civsim.app import comparison
    from civsim.app.page_compare import spec_from
    from civsim.calibration.posterior import simulate_posterior
    from civsim.scenario import load_scenario

    post = load_posterior(make(tmp_path, [1.0, 1.0]))
    specs = [spec_from(load_scenario(name)) for name in ("baseline", "austerity")]
    frame = comparison.run_comparison(specs, 4, 6, seed=3, n_citizens=100, posterior=post)
    plain = comparison.run_comparison(specs, 4, 6, seed=3, n_citizens=100)
    for spec in specs:
        params = {**spec.resolved(), "n_citizens": 100}
        ts, _, draws = simulate_posterior(params, post, seed=3, steps=6, reps=4)
        got = frame[frame["scenario"] == spec.name].drop(columns="scenario").reset_index(drop=True)
        assert np.array_equal(got["outcome_index"].to_numpy(), ts["outcome_index"].to_numpy())
        assert {d["outreach"] for d in draws} == {0.1, 0.9}
    assert not np.array_equal(frame["engagement"].to_numpy(), plain["engagement"].to_numpy())


def test_shipped_posterior_is_found_by_name():
    from civsim.calibration.posterior import shipped_posteriors

    assert "volunteering" in shipped_posteriors()
    post = load_posterior("volunteering")
    assert post.names and abs(post.samples["weight"].sum() - 1.0) < 1e-9
    assert set(post.names) <= {
        "outreach",
        "spontaneous_rate",
        "burnout_rate",
        "threshold_mean",
        "trust_engagement_weight",
    }
