"""The Strategy page's logic without a browser: hostile input, and downloads that reproduce."""

from __future__ import annotations

import pandas as pd
import pytest

from civsim.app import strategy_lab as lab
from civsim.errors import UserError


def tiny() -> lab.LabSpec:
    spec, _ = lab.default_spec()
    spec.strategies = spec.strategies[:2]
    spec.n_futures, spec.months, spec.n_citizens, spec.replicates = 4, 12, 120, 2
    spec.fixed = {**spec.fixed, "n_neighbourhoods": 2, "n_agencies": 4}
    return spec


@pytest.mark.parametrize("posterior", ["", "volunteering"], ids=["lhs", "calibrated"])
def test_page_run_equals_civsim_sweep_of_the_downloaded_experiment(tmp_path, posterior):
    from civsim.experiments.futures import load_strategy_experiment, load_strategy_results, run_strategies

    spec = tiny()
    spec.posterior = posterior
    ticks = []
    frame = lab.run_lab(spec, progress=lambda d, t: ticks.append((d, t)))
    assert ticks[-1] == (16, 16)
    path = tmp_path / "strategy_lab.toml"
    path.write_text(lab.experiment_toml(spec))
    run_strategies(load_strategy_experiment(path), tmp_path / "out", workers=1)
    _, swept = load_strategy_results(tmp_path / "out")
    key = ["strategy", "future", "replicate"]
    a = frame.sort_values(key).reset_index(drop=True)
    b = swept.sort_values(key).reset_index(drop=True)
    pd.testing.assert_series_equal(a["final_outcome_index"], b["final_outcome_index"])
    pd.testing.assert_series_equal(a["austerity_rate"], b["austerity_rate"])


def test_cancel_stops_between_chunks():
    import threading

    ev = threading.Event()
    ev.set()
    with pytest.raises(lab.Cancelled):
        lab.run_lab(tiny(), cancel=ev)


def test_strategy_scenario_file_loads(tmp_path):
    from civsim.scenario import load_scenario

    spec = tiny()
    s = spec.strategies[1]
    p = tmp_path / f"{s.name}.toml"
    p.write_text(lab.strategy_scenario_toml(spec, s))
    scen = load_scenario(str(p))
    for k, v in s.levers.items():
        assert scen.params[k] == v
    assert scen.params["n_citizens"] == spec.n_citizens


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda s: setattr(s, "strategies", s.strategies[:1]), "choose 2 to 6 strategies"),
        (lambda s: s.strategies.append(lab.LabStrategy(s.strategies[0].name)), "names must differ"),
        (lambda s: s.strategies[1].levers.update(outreach=5.0), "outreach = 5.0 is not allowed"),
        (lambda s: s.strategies[1].levers.update(austerity_rate=-0.2), "austerity_rate is an uncertainty"),
        (lambda s: s.strategies[1].levers.update(no_such=1), "unknown parameter 'no_such'"),
        (lambda s: s.ranges.update(austerity_rate=(0.2, 0.1)), "low must be below high"),
        (lambda s: s.ranges.update(austerity_rate=(-9.0, 0.1)), "austerity_rate = -9.0 is not allowed"),
        (lambda s: setattr(s, "n_futures", 5000), "futures: 5000 is not allowed"),
        (lambda s: setattr(s, "replicates", 64) or setattr(s, "n_futures", 1000), "too many for the page"),
    ],
)
def test_hostile_input_is_one_line(mutate, needle):
    spec = tiny()
    mutate(spec)
    with pytest.raises(UserError) as info:
        lab.validate(spec)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_names_are_made_safe():
    assert lab.clean_name("../../etc/passwd") == "etc_passwd"
    assert lab.clean_name("<script>alert(1)</script>") == "script_alert_1_script"
    assert lab.clean_name("") == "strategy"
    assert lab.clean_name("9lives") == "s_9lives"
    assert len(lab.clean_name("x" * 500)) == 64


def test_worker_processes_give_the_same_rows():
    spec = tiny()
    a = lab.run_lab(spec, workers=1)
    b = lab.run_lab(spec, workers=2)
    pd.testing.assert_frame_equal(a, b)


def test_calibrated_futures_take_posterior_draws_in_order():
    from civsim.calibration.posterior import draw_points, load_posterior

    spec = tiny()
    spec.posterior = "volunteering"
    spec.n_futures = 50
    data = lab.experiment_data(spec)
    post = load_posterior("volunteering")
    draws = draw_points(post, 50, spec.seed)
    assert data["design"] == {"kind": "list"}
    unc = data["uncertainties"]
    for name in post.names:  # future i takes draw i; a calibrated parameter loses its range
        assert unc[name]["values"] == [d[name] for d in draws]
    for name, (lo, hi) in spec.ranges.items():
        if name not in post.names:
            x = unc[name]["values"]
            assert len(x) == 50 and lo <= min(x) and max(x) <= hi
            # a Latin hypercube: one value in each of the 50 equal bins of the range
            bins = sorted(int((v - lo) / (hi - lo) * 50) for v in x)
            assert bins == list(range(50))
    assert lab.experiment_data(spec) == data  # reproducible from the seed
