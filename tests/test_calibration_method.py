"""The calibration method on a model with known answers (the closed-form test engine).

- self-consistency: data made by the model at known parameters; the 90%
  credible interval contains them and is much narrower than the prior;
- emulator accuracy on held-out runs;
- history matching rules out most of the prior and keeps the truth;
- runs are reproducible from the seed and independent of the chunking.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest

from civsim.calibration.emulator import fit_emulator, scale, validate
from civsim.calibration.history_matching import non_implausible
from civsim.calibration.pipeline import calibrate
from civsim.calibration.runs import ChunkTask, chunk_size_for, measure, run_chunk
from civsim.calibration.spec import load_calibration
from civsim.params import resolve

TRUTH = {"outreach": 0.4, "austerity_rate": -0.05}


def toy_values(steps: int, metrics: tuple[str, ...], params: dict, key: tuple[int, ...]) -> np.ndarray:
    task = ChunkTask("toy", steps, 999, (key,), (resolve({"n_citizens": 100, **params}),), metrics)
    return run_chunk(task)


def spec_for_truth(tmp_path, population: int = 100):
    """Targets made by one run of the model at TRUTH (its own seed, not the calibration's)."""
    series = toy_values(48, ("engagement", "budget"), TRUTH, (5,))
    e24, e_late, b36 = series[0, 0, 24], series[0, 0, 40:49].mean(), series[0, 1, 36]
    text = textwrap.dedent(
        f"""
        name = "self-consistency"
        scenario = "baseline"
        engine = "toy"
        steps = 48
        citizens = 100
        replicates = 3
        seed = 11
        [parameters]
        outreach = [0.0, 1.0]
        austerity_rate = [-0.2, 0.2]
        [[targets]]
        metric = "engagement"
        step = 24
        value = {e24:.6f}
        sd = 0.01
        [[targets]]
        metric = "engagement"
        step = 44
        window = [40, 48]
        value = {e_late:.6f}
        sd = 0.01
        [[targets]]
        metric = "budget"
        step = 36
        value = {b36:.6f}
        sd = 0.01
        [history_matching]
        waves = 3
        points = 40
        [abc]
        population = {population}
        """
    )
    p = tmp_path / "self.toml"
    p.write_text(text)
    return load_calibration(p)


def test_self_consistency_credible_interval_contains_truth_and_is_narrow(tmp_path):
    spec = spec_for_truth(tmp_path)
    res = calibrate(spec, tmp_path / "out", workers=1, report=False)
    post = pd.read_parquet(tmp_path / "out" / "posterior.parquet")
    assert list(post.columns) == ["outreach", "austerity_rate", "weight"]
    assert post["weight"].sum() == pytest.approx(1.0)
    w = post["weight"].to_numpy()
    for prior in spec.priors:
        x = post[prior.name].to_numpy()
        order = np.argsort(x)
        cw = np.cumsum(w[order])
        lo, hi = x[order][np.searchsorted(cw, 0.05)], x[order][np.searchsorted(cw, 0.95)]
        assert lo <= TRUTH[prior.name] <= hi, (prior.name, lo, hi)
        assert hi - lo < 0.25 * prior.width, (prior.name, lo, hi)
    # history matching ruled most of the prior out, and ABC needed fewer runs than rejection
    assert res.waves[-1].nroy_fraction < 0.2
    assert res.rejection["runs_needed"] > res.runs_total
    assert (tmp_path / "out" / "report.md").exists() is False  # report=False writes none


def test_emulator_predicts_held_out_runs(tmp_path):
    spec = spec_for_truth(tmp_path)
    rng = np.random.default_rng(0)
    x = rng.random((60, 2))
    theta = np.array([p.low for p in spec.priors]) + x * np.array([p.width for p in spec.priors])
    y = []
    for i, th in enumerate(theta):
        s = toy_values(48, ("engagement",), dict(zip(spec.names, th, strict=True)), (i,))
        y.append(s[0, 0, 24])
    y = np.array(y)
    v = validate(x, y, ensemble_var=1e-5, holdout=0.25, seed=1)
    assert v is not None and len(v.simulated) == 15
    assert v.within >= 0.9  # held-out runs inside 3 emulator sd
    assert v.rmse < 0.1 * y.std()  # and close: a tenth of the output's spread
    em = fit_emulator(x, y, 1e-5)
    mu, var = em.predict(x[:5])
    assert np.all(var > 0) and np.allclose(mu, y[:5], atol=0.02)


def test_history_matching_keeps_the_truth(tmp_path):
    spec = spec_for_truth(tmp_path, population=50)
    res = calibrate(spec, tmp_path / "out", workers=1, report=False)
    truth = scale(np.array([[TRUTH[n] for n in spec.names]]), spec.priors)
    assert non_implausible(truth, res.waves, spec)[0]
    fractions = [w.nroy_fraction for w in res.waves]
    assert fractions[0] < 0.5 and all(b <= a + 1e-9 for a, b in zip(fractions, fractions[1:], strict=False))


def test_measure_window_and_relative():
    from civsim.calibration.spec import Target

    s = np.arange(2 * 1 * 11, dtype=float).reshape(2, 1, 11)  # run 0: 0..10, run 1: 11..21
    t1 = Target("a", "engagement", 5, 0.0, 1.0, window=(2, 4))
    t2 = Target("b", "engagement", 10, 0.0, 1.0, relative_to=1)
    out = measure(s, ("engagement",), [t1, t2])
    assert out[0].tolist() == [3.0, 10.0] and out[1].tolist() == [14.0, 21 / 12]


def test_chunk_results_do_not_depend_on_chunking():
    pts = tuple(resolve({"n_citizens": 100, "outreach": o}) for o in (0.1, 0.5, 0.9))
    keys = ((1, 0, 0, 0), (1, 0, 1, 0), (1, 0, 2, 0))
    whole = run_chunk(ChunkTask("toy", 12, 3, keys, pts, ("engagement",)))
    single = np.concatenate(
        [
            run_chunk(ChunkTask("toy", 12, 3, (k,), (p,), ("engagement",)))
            for k, p in zip(keys, pts, strict=True)
        ]
    )
    assert np.array_equal(whole, single)
    assert chunk_size_for(100) == 64 and chunk_size_for(100_000) == 4


def test_data_the_model_cannot_reach_are_reported_not_fitted(tmp_path):
    # the test engine's engagement never exceeds 0.52: 0.95 cannot be matched
    spec = spec_for_truth(tmp_path, population=30)
    bad = spec.path.replace("self.toml", "bad.toml")
    text = open(spec.path).read().replace("value = ", "value = 0.95 #", 1)
    open(bad, "w").write(text)
    from civsim.calibration.pipeline import summarise

    res = calibrate(load_calibration(bad), tmp_path / "bad", workers=1)
    s = summarise(res)
    assert not s["reproduces_data"] and not (tmp_path / "bad" / "posterior.parquet").exists()
    assert s["closest_fit"]["failing_target"] == "engagement@24"
    report = (tmp_path / "bad" / "report.md").read_text()
    assert "does not reproduce the data" in report and "engagement@24" in report


def test_budget_caps_the_runs(tmp_path):
    spec = spec_for_truth(tmp_path, population=30)
    res = calibrate(spec, tmp_path / "b", workers=1, budget=500, report=False)
    assert res.runs_total <= 500 and res.abc.generations


def test_dask_workers_give_the_same_posterior_as_one_process(tmp_path):
    spec = spec_for_truth(tmp_path, population=30)
    spec.hm["waves"], spec.hm["points"] = 2, 20
    calibrate(spec, tmp_path / "one", workers=1, report=False)
    calibrate(spec, tmp_path / "dask", workers=2, report=False)  # a local Dask cluster, as `civsim sweep`
    a = pd.read_parquet(tmp_path / "one" / "posterior.parquet")
    b = pd.read_parquet(tmp_path / "dask" / "posterior.parquet")
    pd.testing.assert_frame_equal(a, b)
