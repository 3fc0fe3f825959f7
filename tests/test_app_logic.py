"""The web app's logic without a browser: parameter controls, comparison
statistics, narrative, drawings, uploads and the server command."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from civsim import params as P
from civsim.app import comparison, drawings, schema_ui, server
from civsim.app.comparison import ScenarioSpec
from civsim.app.live import LiveRun
from civsim.app.narrative import narrate
from civsim.app.upload import parse_upload
from civsim.errors import UserError
from civsim.scenario import load_scenario

SMALL = {"n_citizens": 300}


# ---------------------------------------------------------------- parameter controls


def test_controls_cover_every_editable_parameter_once_six_strands_first():
    groups = schema_ui.grouped_params()
    names = [p.name for ps in groups.values() for p in ps]
    expected = [p.name for p in P.SCHEMA.values() if p.type not in ("list", "path", "series", "text")]
    assert sorted(names) == sorted(expected)
    assert len(names) == len(set(names))
    order = list(groups)
    six = [s for s in schema_ui.SIX_STRANDS if s in groups]
    assert order[: len(six)] == six
    for strand, ps in groups.items():
        assert all(p.strand == strand for p in ps)


@pytest.mark.parametrize(
    "name", [p.name for p in P.SCHEMA.values() if p.type not in ("list", "path", "series", "text")]
)
def test_each_control_fits_its_parameter(name):
    p = P.SCHEMA[name]
    kind = schema_ui.control_kind(p)
    assert kind == {"bool": "switch", "choice": "select"}.get(p.type, kind)
    if p.type == "float":
        assert kind == "slider"
        step = schema_ui.slider_step(p)
        positions = (p.max - p.min) / step
        assert 50 <= positions <= 250, (name, step)
        # the slider's default value is representable and passes the schema check
        assert P.check(name, schema_ui.snap(p, p.default)) == pytest.approx(p.default)
    if p.type == "int":
        assert kind in ("int_slider", "int_box")
        assert (kind == "int_slider") == (p.max - p.min <= schema_ui.INT_SLIDER_SPAN)
    assert p.help and schema_ui.label_for(p, p.default)


def test_snap_removes_browser_float_noise():
    p = P.SCHEMA["outreach"]
    assert schema_ui.snap(p, 0.30000000000000004) == 0.3
    assert schema_ui.snap(P.SCHEMA["network_min_members"], 5.9999) == 6


# ---------------------------------------------------------------- live run


def test_live_run_steps_intervenes_and_snapshots_are_immutable():
    live = LiveRun(SMALL, seed=3)
    s0 = live.snapshot()
    assert s0.month == 0 and len(s0.frame) == 1
    s1 = live.step(3)
    assert s1.month == 3 and list(s1.frame["step"]) == [0, 1, 2, 3]
    assert s0.month == 0 and len(s0.frame) == 1  # the old snapshot did not change
    budget_before = s1.latest("budget")
    s2 = live.intervene("cut_budget", 0.2)
    assert s2.interventions == ((3, "cut_budget", 0.2),)
    s3 = live.step(1)
    assert s3.latest("budget") == pytest.approx(0.8 * budget_before, rel=1e-6)
    assert len(s3.hood_values()) == s3.n_hoods
    assert set(s3.domain_values()) == set(s3.domains)


def test_live_run_is_reproducible_from_its_seed():
    a = LiveRun(SMALL, seed=5).step(6).frame
    b = LiveRun(SMALL, seed=5).step(6).frame
    c = LiveRun(SMALL, seed=6).step(6).frame
    pd.testing.assert_frame_equal(a, b)
    assert not a["outcome_index"].equals(c["outcome_index"])


# ---------------------------------------------------------------- comparison


@pytest.fixture(scope="module")
def compared():
    specs = [
        ScenarioSpec("base", overrides=dict(SMALL)),
        ScenarioSpec("same again", overrides=dict(SMALL)),
        ScenarioSpec("cuts", overrides={**SMALL, "austerity_rate": -0.1}),
    ]
    seen = []
    frame = comparison.run_comparison(
        specs, reps=4, steps=24, seed=1, progress=lambda d, t: seen.append((d, t))
    )
    return frame, seen


def test_comparison_runs_every_scenario_and_replicate(compared):
    frame, seen = compared
    assert list(dict.fromkeys(frame["scenario"])) == ["base", "same again", "cuts"]
    assert frame.groupby("scenario")["rep"].nunique().eq(4).all()
    assert frame["step"].max() == 24
    # progress counts replicate-months over all scenarios and ends at the total
    assert seen[-1] == (288, 288) and [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_bands_hold_the_mean(compared):
    frame, _ = compared
    b = comparison.bands(frame, "outcome_index")
    assert len(b) == 3 * 25
    assert (b["lo"] <= b["mean"] + 1e-12).all() and (b["mean"] <= b["hi"] + 1e-12).all()
    assert (b["hi"] - b["lo"]).iloc[-1] > 0


def test_differences_are_paired_by_seed(compared):
    frame, _ = compared
    d = comparison.differences(frame, ["outcome_index", "budget"], years=(1, 2, 5))
    same = d[(d["scenario"] == "same again") & (d["year"] <= 2)]
    # the same scenario with the same seeds: exactly no difference, zero-width interval
    assert np.allclose(same[["diff", "lo", "hi"]].to_numpy(), 0.0)
    cuts = d[(d["scenario"] == "cuts") & (d["metric"] == "budget") & (d["year"] == 2)].iloc[0]
    assert cuts["diff"] < 0 and cuts["lo"] <= cuts["diff"] <= cuts["hi"]
    assert cuts["diff"] == pytest.approx(cuts["mean"] - cuts["ref_mean"])
    # a year beyond the run is reported as missing, not invented
    assert d[d["year"] == 5]["diff"].isna().all()
    table = comparison.difference_table(d)
    assert {"measure", "scenario", "year 1", "year 2", "year 5"} <= set(table.columns)
    assert table["year 5"].str.contains("n/a").all()


def test_comparison_csv_round_trips(compared):
    frame, _ = compared
    back = pd.read_csv(__import__("io").StringIO(comparison.to_csv(frame)))
    assert list(back.columns) == list(frame.columns) and len(back) == len(frame)


def test_comparison_rejects_bad_input_with_one_line():
    with pytest.raises(UserError, match="names must differ"):
        comparison.run_comparison([ScenarioSpec("a"), ScenarioSpec("a")], 2, 2)
    with pytest.raises(UserError, match="voice_weight"):
        comparison.run_comparison(
            [ScenarioSpec("a", overrides={"voice_weight": 0.8, "need_weight": 0.8})], 2, 2
        )


def test_scenario_toml_download_loads_in_the_cli(tmp_path):
    spec = ScenarioSpec(
        "my option",
        "Cuts with outreach.",
        {"austerity_rate": -0.05, "outreach": 0.4, "coordination_enabled": False},
        seed=7,
        steps=36,
    )
    path = tmp_path / "my_option.toml"
    path.write_text(spec.to_toml())
    back = load_scenario(str(path))
    # the file also names the citizen count, so a later change of default cannot change it
    assert back.params == {**spec.overrides, "n_citizens": P.SCHEMA["n_citizens"].default}
    assert back.seed == 7 and back.steps == 36 and back.replicates == 1
    assert back.description == "Cuts with outreach."


# ---------------------------------------------------------------- narrative


def test_narrative_tells_each_year_from_the_data():
    live = LiveRun({**SMALL, "shock_month": 30, "shock_size": 0.3}, seed=2)
    live.step(12)
    live.intervene("cut_budget", 0.25)
    snap = live.step(24)
    stories = narrate(snap.frame, snap.interventions, snap.domains, snap.groups)
    assert [s.year for s in stories] == [1, 2, 3]
    f = snap.frame.set_index("step")
    y2 = stories[1]
    # the numbers quoted are the run's own
    assert f"{f.loc[12, 'outcome_index']:.3f} to {f.loc[24, 'outcome_index']:.3f}" in y2.headline
    text = y2.text()
    assert "In month 12, the council's budget was cut by 25%." in text
    assert "budget fell" in text
    assert "shock in month 30" in stories[2].text()
    assert "shock" not in stories[0].text()


def test_narrative_partial_year_and_empty_run():
    live = LiveRun(SMALL, seed=0)
    assert narrate(live.snapshot().frame) == []
    snap = live.step(15)
    stories = narrate(snap.frame, (), snap.domains, snap.groups)
    assert [s.partial for s in stories] == [False, True]
    assert stories[-1].headline.startswith("Year 2 so far")


# ---------------------------------------------------------------- drawings


def test_loops_and_their_polarity():
    loops = drawings.find_loops({("a", "b"): 0.3, ("b", "a"): 0.2, ("b", "c"): -0.1, ("c", "b"): 0.4})
    kinds = {lp.nodes: lp.polarity for lp in loops}
    assert kinds == {("a", "b"): "R", ("b", "c"): "B"}
    actor = drawings.find_loops(drawings.ACTOR_LOOP_EDGES, 4)
    assert any(lp.polarity == "B" and "burnout" in lp.nodes for lp in actor)
    assert any(
        lp.polarity == "R" and {"trust", "engagement", "co-production"} <= set(lp.nodes) for lp in actor
    )


def test_system_of_challenges_diagram_follows_the_cross_impact_matrix():
    live = LiveRun(SMALL, seed=0)
    s = live.snapshot()
    edges = drawings.challenge_edges(s.domains, s.cross_impact)
    C = s.cross_impact
    for (src, dst), w in edges.items():
        assert w == C[s.domains.index(dst), s.domains.index(src)] != 0
    assert any(w < 0 for w in edges.values())  # hindrances are shown
    svg = drawings.cld_svg(list(s.domains), edges, s.domain_values(), loops=drawings.find_loops(edges))
    assert svg.count('class="civsim-link"') == len(edges)
    assert svg.count('data-sign="−"') == sum(w < 0 for w in edges.values())


def test_actor_graph_counts_ties():
    S, A = 4, 3
    alive = np.array([True, True, False, True])
    ally = np.zeros((S + A, S + A), bool)
    ally[0, 1] = ally[1, 0] = True  # two networks
    ally[3, S + 2] = ally[S + 2, 3] = True  # network and agency
    ally[2, S] = ally[S, 2] = True  # dead slot: not drawn
    coord = np.zeros((A, A), bool)
    coord[0, 1] = coord[1, 0] = True
    svg, counts = drawings.actor_graph_svg(
        alive,
        np.array([0, 0, 1, 1]),
        np.array([5, 3, 0, 9]),
        ally,
        coord,
        np.array([0, 1, 3]),
        ("public", "ngo", "voluntary", "business"),
        2,
    )
    assert (counts.networks, counts.alliance_ties, counts.coordination_ties) == (3, 2, 1)
    assert svg.count('class="civsim-ally"') == 2 and svg.count('class="civsim-coord"') == 1
    assert 'data-alliances="2"' in svg


def test_map_colours_follow_outcomes():
    svg = drawings.neighbourhood_map_svg([0.3, 0.8], [0.35, 0.7])
    assert drawings.outcome_colour(0.3) != drawings.outcome_colour(0.8)
    assert svg.count('class="civsim-hood"') == 2 and "▲ +10.0" in svg and "▼ -5.0" in svg


# ---------------------------------------------------------------- uploads


@pytest.mark.parametrize(
    "text, expected",
    [
        ("[params\nx = 1", "invalid TOML"),
        ("[params]\nausterity_rat = -0.1", "did you mean 'austerity_rate'"),
        ("[params]\nausterity_rate = 5", "austerity_rate = 5 is not allowed"),
        ("steps = -3", "steps = -3 is not allowed"),
        ("outreach = 0.5", "parameters go under [params]"),
        ("[params]\nvoice_weight = 0.9\nneed_weight = 0.9", "their sum must be at most 1"),
    ],
)
def test_upload_errors_match_the_cli(tmp_path, text, expected):
    with pytest.raises(UserError) as up:
        parse_upload("mine.toml", text.encode())
    message = str(up.value)
    assert expected in message and message.startswith("mine.toml: ") and "\n" not in message
    # the same file through the CLI's loader gives the same message (only the file name differs)
    path = tmp_path / "mine.toml"
    path.write_text(text)
    with pytest.raises(UserError) as cli:
        load_scenario(str(path))
    assert str(cli.value).replace(str(path), "mine.toml") == message


def test_upload_binary_and_huge_files_are_one_line_errors():
    with pytest.raises(UserError, match="not a text file"):
        parse_upload("x.toml", b"\xff\xfe\x00bad")
    with pytest.raises(UserError, match="must be under"):
        parse_upload("x.toml", b"#" * 2_000_000)


def test_upload_good_file():
    s = parse_upload(
        "my_town.toml", b'description = "Mine."\nextends = "austerity"\n[params]\noutreach = 0.5\n'
    )
    assert s.name == "my_town" and s.params["outreach"] == 0.5 and s.params["budget_path"][-1] < 1


# ---------------------------------------------------------------- server


def test_server_binds_localhost_by_default():
    cmd = server.command()
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--port") + 1] == "8765"
    assert "--production" in cmd and "--no-open" in cmd and server.APP_MODULE in cmd


def test_server_reports_a_taken_port_in_one_line():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(UserError, match=f"port {port} on 127.0.0.1 is already in use"):
            server.check_port("127.0.0.1", port)


def test_pages_module_declares_the_routes():
    from civsim.app import pages

    paths = [r.path for r in pages.routes]
    assert paths[:3] == ["/", "compare", "workshop"]
    assert Path(server.__file__).parent.joinpath("pages.py").exists()


def test_cli_app_command_reports_a_taken_port():
    from typer.testing import CliRunner

    from civsim.cli import app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        result = CliRunner().invoke(app, ["app", "--port", str(port)])
    assert result.exit_code == 2
    assert f"port {port} on 127.0.0.1 is already in use" in result.output
    assert "Traceback" not in result.output
