"""The app's charts, colours, parallel comparison, downloads and input checks (no browser)."""

from __future__ import annotations

import json
import re
import threading

import numpy as np
import pandas as pd
import pytest

from civsim import params as P
from civsim import simulate
from civsim.app import charts, comparison, drawings, plots, schema_ui, workers
from civsim.app.comparison import ScenarioSpec
from civsim.app.live import intervention_size, intervention_text
from civsim.app.narrative import narrate
from civsim.scenario import load_scenario, parse_scenario_text

SMALL = {"n_citizens": 200}


def fake_frame(steps: int = 24, shock_at: int | None = None) -> pd.DataFrame:
    """A synthetic run: what the charts draw, without the model."""
    t = np.arange(steps + 1)
    f = pd.DataFrame(
        {
            "step": t,
            "a": 0.5 + 0.001 * t,
            "b": 0.4 - 0.001 * t,
            "gap": 0.1 + 0.0005 * t,
            "shock": np.zeros(steps + 1),
        }
    )
    if shock_at is not None:
        f.loc[shock_at, "shock"] = 1.0
    return f


# ---------------------------------------------------------------- charts


def test_line_figure_is_plain_json_with_hover_legend_and_png_export():
    f = fake_frame(24, shock_at=13)
    fig = plots.line_figure(
        f, ["a", "b"], ["first", "second"], "Title", "index", [(12, "cut_budget", 0.1)], twin=("gap", "gap")
    )
    json.dumps(fig)  # everything the browser gets is JSON
    names = [t["name"] for t in fig["data"]]
    assert names == ["first", "second", "gap (right axis)"]
    assert fig["data"][2]["yaxis"] == "y2" and fig["layout"]["yaxis2"]["side"] == "right"
    assert all("%{y" in t["hovertemplate"] for t in fig["data"])
    assert fig["layout"]["hovermode"] == "x unified"
    assert fig["config"]["toImageButtonOptions"]["format"] == "png" and fig["config"]["displayModeBar"]
    lines = [s for s in fig["layout"]["shapes"] if s["name"] == "intervention"]
    shocks = [s for s in fig["layout"]["shapes"] if s["name"] == "shock"]
    assert len(lines) == 1 and lines[0]["x0"] == pytest.approx(1.0)
    assert len(shocks) == 1 and shocks[0]["x0"] == pytest.approx(1.0)  # row 13 = during month 12
    (ann,) = fig["layout"]["annotations"]
    assert ann["text"] == "<b>1</b>" and ann["hovertext"] == "1. Budget cut 10% (month 12)"
    assert fig["data"][0]["y"][0] == pytest.approx(0.5)


def test_percent_charts_scale_and_say_so():
    fig = plots.line_figure(fake_frame(), ["a"], ["a"], "T", "share", percent=True)
    assert fig["data"][0]["y"][0] == pytest.approx(50.0) and "%" in fig["data"][0]["hovertemplate"]
    assert fig["layout"]["yaxis"]["title"]["text"].endswith("(%)")


def test_non_finite_values_become_gaps_not_invalid_json():
    f = fake_frame()
    f.loc[3, "a"] = np.nan
    fig = plots.line_figure(f, ["a"], ["a"], "T", "y")
    assert fig["data"][0]["y"][3] is None
    json.dumps(fig, allow_nan=False)


@pytest.mark.parametrize("font", [13, 18])
def test_intervention_labels_never_overlap_even_when_close_together(font):
    xs = [1.0, 1.02, 1.05, 1.1, 3.0, 3.01, 9.9, 10.0]
    texts = [str(i + 1) for i in range(len(xs))]
    span = 10.0
    rows = plots.label_rows(xs, texts, span, font)
    per_px = span / plots.MIN_PLOT_PX
    boxes = [
        (r, x - (0.62 * font * len(t) + 8) * per_px / 2, x + (0.62 * font * len(t) + 8) * per_px / 2)
        for r, x, t in zip(rows, xs, texts, strict=True)
    ]
    for i, (ri, a0, a1) in enumerate(boxes):
        for rj, b0, b1 in boxes[i + 1 :]:
            assert ri != rj or a1 <= b0 or b1 <= a0
    assert rows[0] == 0 and rows[4] == 0 and max(rows) >= 1
    # the figure stacks them by row, one label height apart
    frame = fake_frame(120)
    fig = plots.line_figure(frame, ["a"], ["a"], "T", "y", [(12, "convene", 0.05), (13, "convene", 0.05)])
    shifts = sorted(a["yshift"] for a in fig["layout"]["annotations"])
    assert shifts[0] < shifts[1] == 0


def test_band_figure_groups_each_band_with_its_mean():
    rows = []
    for name in ("A", "B"):
        for step in range(0, 25, 12):
            rows.append({"scenario": name, "step": step, "mean": 0.5, "lo": 0.4, "hi": 0.6})
    fig = plots.band_figure(pd.DataFrame(rows), "Index")
    assert [t["name"] for t in fig["data"] if t.get("showlegend", True)] == ["A", "B"]
    assert sum(t.get("fill") == "tonexty" for t in fig["data"]) == 2
    assert {t["legendgroup"] for t in fig["data"]} == {"s0", "s1"}
    assert "[%{customdata[0]:.3f}" in fig["data"][2]["hovertemplate"]


def test_plotly_bundle_and_version_for_the_offline_asset():
    assert charts.plotly_bundle().is_file()
    assert re.fullmatch(r"\d+\.\d+\.\d+", charts.plotly_js_version())
    assert charts.PlotlyWidget.template_file.endswith("plotly_chart.vue")


# ---------------------------------------------------------------- colours (WCAG)


def test_line_colours_meet_3_to_1_and_scenario_text_4_5_to_1_on_white():
    for c in plots.PALETTE + [plots.SHOCK_COLOUR, plots.MARK_COLOUR, plots.SECONDARY]:
        assert plots.contrast(c) >= 3.0, c
    for c in plots.SCENARIO_COLOURS:  # "Scenario B" headings are drawn in these
        assert plots.contrast(c) >= 4.5, c
    for c in drawings.KIND_COLOURS.values():
        assert plots.contrast(c) >= 3.0, c
    assert plots.contrast("#000000") == pytest.approx(21.0)


def test_map_colours_come_from_a_table_matching_rdylgn():
    from matplotlib import colormaps
    from matplotlib.colors import to_rgb

    lo, hi = drawings.MAP_RANGE
    for x in np.linspace(0, 1, 11):
        ours = np.array(to_rgb(drawings.outcome_colour(lo + x * (hi - lo))))
        ref = np.array(colormaps["RdYlGn"](x)[:3])
        assert np.abs(ours - ref).max() < 0.03
    assert drawings.outcome_colour(float("nan")) == drawings.outcome_colour(-5)


# ---------------------------------------------------------------- interventions and story


def test_interventions_show_their_size():
    assert intervention_size("cut_budget", 0.1) == "10%"
    assert intervention_text("shock_economic", 0.2) == "Economic shock (size 0.20)"
    assert intervention_text("open_coproduction", 0.8) == "Agencies opened to co-production (openness 0.80)"
    assert intervention_text("fund_networks", 0.05) == "Networks funded 5%"


def test_story_sentences_have_verbs():
    f = pd.DataFrame(
        {
            "step": [0, 12],
            "outcome_index": [0.5, 0.5],
            "outcome_housing": [0.5, 0.47],
            "outcome_jobs": [0.5, 0.53],
            "inclusion_gap": [0.1, 0.1],
            "engagement": [0.2, 0.2],
            "trust": [0.5, 0.5],
            "budget": [1.0, 1.0],
            "networks": [3, 3],
            "alliances": [0, 0],
            "coordination_density": [0.1, 0.1],
            "largest_alliance": [0, 0],
            "shock": [0, 0],
        }
    )
    text = narrate(f, (), ("housing", "jobs"), ("majority", "marginalised"))[0].text()
    assert "the biggest loss was in housing (-3.0 points)" in text


# ---------------------------------------------------------------- parallel comparison


def test_chunks_cover_every_replicate_once():
    for reps in (1, 2, 5, 32):
        for parts in (1, 2, 3, 8):
            got = workers.chunks(reps, parts)
            assert [r for lo, hi in got for r in range(lo, hi)] == list(range(reps))
            assert max(hi - lo for lo, hi in got) - min(hi - lo for lo, hi in got) <= 1


def test_parallel_comparison_is_identical_to_serial():
    specs = [
        ScenarioSpec("base", overrides=dict(SMALL)),
        ScenarioSpec("cuts", overrides={**SMALL, "austerity_rate": -0.1}),
        ScenarioSpec("outreach", overrides={**SMALL, "outreach": 0.5}),
    ]
    serial = comparison.run_comparison(specs, reps=4, steps=6, seed=3, workers=1)
    seen = []
    parallel = comparison.run_comparison(
        specs, reps=4, steps=6, seed=3, workers=2, progress=lambda d, t: seen.append((d, t))
    )
    pd.testing.assert_frame_equal(serial, parallel, check_exact=True)
    assert seen[-1] == (3 * 4 * 6, 3 * 4 * 6)


def test_parallel_comparison_can_be_cancelled():
    specs = [ScenarioSpec("base", overrides=dict(SMALL))]
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(comparison.Cancelled):
        comparison.run_comparison(specs, reps=4, steps=50, workers=2, cancel=cancel)


# ---------------------------------------------------------------- downloads reproduce the page


def test_downloaded_scenario_reproduces_the_comparison_with_civsim_run(tmp_path):
    from typer.testing import CliRunner

    from civsim.cli import app

    spec = ScenarioSpec("cuts", "Cuts.", {"austerity_rate": -0.05}, seed=0, steps=120, preset="austerity")
    frame = comparison.run_comparison([spec], reps=3, steps=18, seed=7, n_citizens=250, workers=1)
    page = comparison.end_means(frame).iloc[0]
    text = spec.to_toml(seed=7, steps=18, reps=3, n_citizens=250)
    back = parse_scenario_text(text, "cuts.toml")
    assert (back.seed, back.steps, back.replicates, back.params["n_citizens"]) == (7, 18, 3, 250)
    # the library call `civsim run FILE` makes ...
    ts, _ = simulate.simulate(back.resolved, back.seed, back.steps, back.replicates, "batch")
    last = ts[ts["step"] == 18].sort_values("rep")
    ours = frame[frame["step"] == 18].sort_values("rep")
    assert np.array_equal(last["outcome_index"].to_numpy(), ours["outcome_index"].to_numpy())  # run by run
    assert last["outcome_index"].mean() == pytest.approx(page["outcome_index"], rel=1e-12)
    # ... and the command itself, with nothing but the file
    path = tmp_path / "cuts.toml"
    path.write_text(text)
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert (manifest["seed"], manifest["steps"], manifest["reps"], manifest["engine"]) == (7, 18, 3, "batch")
    assert f"{page['outcome_index']:.3f}" in result.output


def test_replicates_key_is_checked_like_the_others():
    with pytest.raises(
        Exception, match=r"replicates = 0 is not allowed: expected an integer in \[1, 10000\]"
    ):
        parse_scenario_text("replicates = 0\n", "x.toml")
    assert load_scenario("baseline").replicates == 1


def test_difference_table_has_units_and_a_better_or_worse_cue():
    d = pd.DataFrame(
        [
            {
                "year": 5,
                "metric": "outcome_index",
                "scenario": "B",
                "reference": "A",
                "diff": 0.02,
                "lo": 0.01,
                "hi": 0.03,
            },
            {
                "year": 5,
                "metric": "inclusion_gap",
                "scenario": "B",
                "reference": "A",
                "diff": 0.02,
                "lo": 0.01,
                "hi": 0.03,
            },
            {
                "year": 5,
                "metric": "trust",
                "scenario": "B",
                "reference": "A",
                "diff": 0.0,
                "lo": -0.01,
                "hi": 0.01,
            },
            {
                "year": 5,
                "metric": "engagement",
                "scenario": "B",
                "reference": "A",
                "diff": -0.02,
                "lo": -0.03,
                "hi": -0.01,
            },
        ]
    )
    t = comparison.difference_table(d).set_index("measure")
    assert t.loc["Valued-outcome index", "year 5"].endswith("(better)")
    assert t.loc["Inclusion gap", "year 5"].endswith("(worse)")  # a wider gap is worse
    assert not t.loc["Trust", "year 5"].endswith(("(better)", "(worse)"))
    assert (
        t.loc["Engagement", "year 5"].startswith("-2.000")
        and t.loc["Engagement", "unit"] == "percentage points"
    )
    assert t.loc["Inclusion gap", "unit"] == "index points"


# ---------------------------------------------------------------- input checks


def test_limits_read_as_people_write_them():
    with pytest.raises(P.ParamError) as exc:
        schema_ui.check_value("n_citizens", "5", "Citizens per run")
    msg = str(exc.value)
    assert "Citizens per run = '5' is not allowed" in msg and "e+" not in msg
    p = P.SCHEMA["n_citizens"]
    assert f"from {int(p.min):,} to {int(p.max):,}" in msg
    assert schema_ui.check_value("n_citizens", "2500") == 2500


@pytest.mark.parametrize("text", ["abc", "-1", "1.5", "", " ", str(2**63)])
def test_bad_seeds_are_refused_with_one_line(text):
    with pytest.raises(ValueError, match="Seed .* is not allowed: expected a whole number"):
        schema_ui.parse_seed(text)


def test_good_seeds_parse():
    assert schema_ui.parse_seed(" 42 ") == 42 and schema_ui.parse_seed("0") == 0
