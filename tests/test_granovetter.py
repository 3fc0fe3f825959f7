"""Granovetter (1978) as presets, and the threshold and network sources behind them.

Granovetter's riot: 100 people, thresholds 0, 1, ..., 99 ("join once at least
t others have joined") and everyone sees everyone. The instigator (threshold
0) starts, then one more joins each round until all 100 have. Give the person
with threshold 1 a threshold of 2 and the chain breaks at once: only the
instigator riots.

In civsim a disengaged citizen engages when ``count / degree >= theta``
(capacity 1, every other term off). On a complete graph of N = 100 the degree
is 99, and with ``theta = t / 100`` the rule is ``100 count >= 99 t``, i.e.
``count >= t`` exactly for every integer t in 0..99, with a margin of at least
1/9900 on either side, far above rounding (float32 or float64).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from civsim import inputs
from civsim.batch import BatchModel
from civsim.errors import UserError
from civsim.model import CivicModel
from civsim.params import COMPLETE_MAX_CITIZENS, SCHEMA, ParamError, check, resolve
from civsim.scenario import PRESET_DIR, apply_overrides, load_scenario
from civsim.seeding import mesa_aligned_generator, run_sequence
from civsim.world import build_world

CIVSIM = Path(sys.executable).parent / "civsim"
N = 100


def both_engines(params: dict, seed: int, steps: int):
    """Engaged counts per step from the Mesa engine and the batch core (same seed)."""
    mesa = CivicModel(params, seed=seed).run(steps).frame()
    batch = BatchModel([params], [run_sequence(seed)]).run(steps).frame()
    n = params["n_citizens"]
    return np.rint(mesa["engagement"].to_numpy() * n), np.rint(batch["engagement"].to_numpy() * n)


def world_of(params: dict, seed: int = 0):
    return build_world(resolve(params), mesa_aligned_generator(run_sequence(seed)))


# ----------------------------------------------------------------------------
# The presets


def test_granovetter_preset_settings():
    scen = load_scenario("granovetter")
    p = scen.resolved
    assert p["n_citizens"] == N and p["network"] == "complete" and p["threshold_distribution"] == "file"
    assert Path(p["threshold_file"]) == PRESET_DIR / "granovetter_thresholds.csv"
    assert not p["networks_enabled"] and not p["alliances_enabled"] and not p["coordination_enabled"]
    assert p["burnout_rate"] == 0.0 and p["spontaneous_rate"] == 0.0 and p["outreach"] == 0.0
    assert p["capacity_mean"] == 1.0 and p["capacity_sd"] == 0.0 and p["trust_engagement_weight"] == 0.0
    assert p["participation_barrier"] == 0.0 and p["marginalised_capacity_penalty"] == 0.0
    assert p["initial_engagement"] == 0.0 and p["seed_engaged"] == 0
    assert scen.steps >= N
    w = world_of(p)
    assert np.array_equal(w.threshold, np.arange(N) / 100)
    assert (np.diff(w.ties.indptr) == N - 1).all()


def test_perturbed_preset_differs_in_one_threshold_only():
    a = world_of(load_scenario("granovetter").resolved).threshold
    b = world_of(load_scenario("granovetter_perturbed").resolved).threshold
    assert np.flatnonzero(a != b).tolist() == [1]
    assert a[1] == 0.01 and b[1] == 0.02
    assert load_scenario("granovetter_perturbed").resolved["network"] == "complete"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_granovetter_everyone_engages_one_a_month(seed):
    scen = load_scenario("granovetter")
    mesa, batch = both_engines(scen.resolved, seed, scen.steps)
    assert np.array_equal(mesa, batch)
    # month t: the citizens with thresholds 0..t-1 are engaged
    expected = np.minimum(np.arange(scen.steps + 1), N)
    assert np.array_equal(mesa, expected), mesa[:12]
    assert mesa[-1] == N


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_granovetter_perturbed_only_the_instigator(seed):
    scen = load_scenario("granovetter_perturbed")
    mesa, batch = both_engines(scen.resolved, seed, scen.steps)
    assert np.array_equal(mesa, batch)
    assert mesa[0] == 0 and (mesa[1:] == 1).all()


def test_threshold_mapping_counts_exactly():
    """count/99 >= t/100 iff count >= t, for every t and count, in float64 and float32."""
    count = np.arange(N)[:, None]
    t = np.arange(N)[None, :]
    for dtype in (np.float64, np.float32):
        share = count.astype(dtype) / np.asarray(N - 1, dtype=dtype)
        theta = (t / 100).astype(dtype)
        assert np.array_equal(share >= theta, count >= t)
    # away from 0 >= 0 (exact), share and threshold never come closer than 1/9900
    gap = np.abs(count / (N - 1) - t / 100)[:, 1:]
    assert gap.min() >= 1 / 9900 - 1e-15


def test_normal_thresholds_tip_from_almost_none_to_almost_all():
    """Granovetter's normal case: N = 100, mean 25 of 100; as the spread passes ~12, participation jumps.

    Five independent seed blocks of 20 runs each, on the complete graph with
    thresholds clip(N(0.25, sd)) and everything else as in the preset. In
    every block: at spread 6 no run gets beyond a few citizens; at 10 the
    median run stays at a few percent (an occasional run tips); at 16 the
    median run and at 22 every run reaches (almost) everyone; and runs end
    either small or (almost) complete. (Checked offline on 16 blocks.)
    """
    base = {**load_scenario("granovetter").params, "threshold_distribution": "normal", "threshold_mean": 0.25}
    runs = 20
    for block in range(5):
        spreads = (0.06, 0.10, 0.16, 0.22)
        points = [resolve({**base, "threshold_sd": sd}) for sd in spreads for _ in range(runs)]
        seeds = [run_sequence(1978 + block, (int(sd * 100), r)) for sd in spreads for r in range(runs)]
        f = BatchModel(points, seeds).run(120).frame()
        end = f[f.step == 120].sort_values("run")["engagement"].to_numpy().reshape(len(spreads), runs)
        finals = dict(zip(spreads, end, strict=True))
        assert finals[0.06].max() <= 0.05, (block, finals[0.06])
        assert np.median(finals[0.10]) <= 0.05, (block, finals[0.10])
        assert np.median(finals[0.16]) >= 0.95, (block, finals[0.16])
        assert finals[0.22].min() >= 0.95, (block, finals[0.22])
        for e in finals.values():  # bimodal: small or (almost) everyone
            assert np.all((e <= 0.15) | (e >= 0.95)), (block, e)


# ----------------------------------------------------------------------------
# Threshold and network sources


def test_uniform_thresholds_have_the_mean_and_sd_and_same_later_draws():
    p = {"n_citizens": 20000, "threshold_mean": 0.4, "threshold_sd": 0.1}
    normal = world_of({**p, "threshold_distribution": "normal"}, seed=5)
    uniform = world_of({**p, "threshold_distribution": "uniform"}, seed=5)
    half = 0.1 * np.sqrt(3)
    assert uniform.threshold.min() >= 0.4 - half and uniform.threshold.max() <= 0.4 + half
    assert abs(uniform.threshold.mean() - 0.4) < 0.003 and abs(uniform.threshold.std() - 0.1) < 0.003
    hist, _ = np.histogram(uniform.threshold, bins=10, range=(0.4 - half, 0.4 + half))
    assert hist.min() > 0.9 * hist.mean()  # flat
    # the same normal draw feeds both: thresholds are comonotone, later draws identical
    assert np.array_equal(
        np.argsort(normal.threshold, kind="stable"), np.argsort(uniform.threshold, kind="stable")
    )
    assert np.array_equal(normal.trust, uniform.trust) and np.array_equal(normal.engaged, uniform.engaged)
    assert (normal.ties != uniform.ties).nnz == 0


def test_threshold_and_edge_files_round_trip(tmp_path):
    """A scenario naming relative files: the world has exactly those thresholds and ties."""
    rng = np.random.default_rng(3)
    n = 40
    theta = rng.random(n).round(6)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "thr.csv").write_text(
        "id,threshold\n" + "".join(f"{i},{float(x)!r}\n" for i, x in enumerate(theta))
    )
    edges = [(0, 1), (1, 0), (2, 2), (3, 39), (3, 39), (39, 5), (10, 11)]
    (tmp_path / "data" / "ties.csv").write_text(
        "source,target\n" + "".join(f"{a},{b}\n" for a, b in edges) + "\n"
    )
    (tmp_path / "s.toml").write_text(
        'description = "files"\n[params]\nn_citizens = 40\nthreshold_distribution = "file"\n'
        'threshold_file = "data/thr.csv"\nnetwork = "file"\nedge_file = "data/ties.csv"\n'
    )
    scen = load_scenario(tmp_path / "s.toml")
    assert scen.params["threshold_file"] == str(tmp_path / "data" / "thr.csv")
    w = world_of(scen.params)
    assert np.array_equal(w.threshold, theta)
    got = {(int(i), int(j)) for i, j in zip(*w.ties.nonzero(), strict=True)}
    want = {(a, b) for a, b in edges if a != b} | {(b, a) for a, b in edges if a != b}
    assert got == want and w.ties.max() == 1.0
    # both engines accept such a world and dock
    p = resolve({**scen.params, "seed_engaged": 3, "threshold_mean": 0.2})
    mesa = CivicModel(p, seed=1).run(6).frame()
    batch = BatchModel([p], [run_sequence(1)]).run(6).frame().drop(columns="run")
    assert np.allclose(mesa.to_numpy(float), batch.to_numpy(float), atol=1e-9, equal_nan=True)


def test_scenario_extending_a_file_preset_keeps_its_files(tmp_path):
    (tmp_path / "child.toml").write_text('extends = "granovetter"\n[params]\nshock_month = 5\n')
    scen = load_scenario(tmp_path / "child.toml")
    assert Path(scen.params["threshold_file"]) == PRESET_DIR / "granovetter_thresholds.csv"


def test_set_paths_are_relative_to_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "t.csv").write_text("threshold\n" + "0.5\n" * N)
    monkeypatch.chdir(tmp_path)
    scen = apply_overrides(load_scenario("granovetter"), ["threshold_file=t.csv"])
    assert scen.params["threshold_file"] == str(tmp_path / "t.csv")
    assert (world_of(scen.params).threshold == 0.5).all()


def test_complete_network_and_its_limit():
    w = world_of({"n_citizens": 30, "network": "complete"})
    assert w.ties.nnz == 30 * 29 and (w.ties != w.ties.T).nnz == 0 and w.ties.diagonal().sum() == 0
    with pytest.raises(ParamError, match="n_citizens <= "):
        resolve({"network": "complete", "n_citizens": COMPLETE_MAX_CITIZENS + 1})


def test_path_type_in_the_schema():
    assert SCHEMA["threshold_file"].type == "path" and SCHEMA["edge_file"].type == "path"
    assert check("threshold_file", " a b.csv ") == "a b.csv"
    for bad in (3, None, ["x"], "a\nb"):
        with pytest.raises(ParamError, match="threshold_file"):
            check("threshold_file", bad)
    with pytest.raises(ParamError, match="threshold_distribution = 'file' needs threshold_file"):
        resolve({"threshold_distribution": "file"})
    with pytest.raises(ParamError, match="network = 'file' needs edge_file"):
        resolve({"network": "file"})
    assert resolve({"threshold_file": "ignored.csv"})["threshold_distribution"] == "normal"


def test_app_renders_no_control_for_paths():
    from civsim.app.schema_ui import grouped_params

    shown = {p.name for ps in grouped_params().values() for p in ps}
    assert "threshold_file" not in shown and "edge_file" not in shown
    assert {"threshold_distribution", "network"} <= shown


def test_uploaded_scenarios_cannot_name_server_files():
    from civsim.app.upload import parse_upload

    with pytest.raises(UserError, match="up.toml: \\[params\\] edge_file = '/etc/passwd' is not allowed"):
        parse_upload("up.toml", b'[params]\nnetwork = "file"\nedge_file = "/etc/passwd"\n')
    ok = parse_upload("up2.toml", b'extends = "granovetter_perturbed"\n')
    assert ok.resolved["threshold_file"].endswith("granovetter_perturbed_thresholds.csv")


# ----------------------------------------------------------------------------
# Bad files: one line naming file, key and value; the CLI exits 2

BAD_FILES = {
    "missing": ("threshold_file", None, ["threshold_file", "nothere.csv", "file not found", "'threshold'"]),
    "short": ("threshold_file", "threshold\n" + "0.1\n" * 99, ["threshold_file", "99 rows, expected 100"]),
    "value": (
        "threshold_file",
        "threshold\n" + "0.1\n" * 50 + "1.5\n" + "0.1\n" * 49,
        ["line 52", "'1.5'", "[0, 1]"],
    ),
    "word": ("threshold_file", "threshold\nlots\n", ["line 2", "'lots'", "not a number"]),
    "header": ("threshold_file", "theta\n" + "0.1\n" * 100, ["lacks column 'threshold'", "'theta'"]),
    "empty": ("threshold_file", "", ["(empty file)", "lacks column"]),
    "fields": ("threshold_file", "threshold\n0.1\n0.2,3\n", ["line 3", "2 fields, expected 1"]),
    "binary": ("threshold_file", b"\xff\xfe\x00threshold", ["not a text file"]),
    "edge-range": (
        "edge_file",
        "source,target\n0,1\n5,100\n",
        ["edge_file", "line 3", "target = '100'", "0 to 99"],
    ),
    "edge-negative": ("edge_file", "source,target\n-1,3\n", ["source = '-1'", "citizen index"]),
    "edge-float": ("edge_file", "source,target\n1.5,3\n", ["source = '1.5'"]),
    "edge-header": ("edge_file", "from,to\n1,2\n", ["lacks column 'source'", "source,target"]),
}


def write_bad(tmp_path: Path, case: str) -> tuple[str, str]:
    key, content, _ = BAD_FILES[case]
    name = "nothere.csv" if content is None else f"{case}.csv"
    if content is not None:
        path = tmp_path / name
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    kind = "threshold_distribution" if key == "threshold_file" else "network"
    (tmp_path / f"{case}.toml").write_text(
        f'extends = "granovetter"\n[params]\n{kind} = "file"\n{key} = "{name}"\n'
    )
    return key, name


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_file_is_one_line(case, tmp_path):
    key, name = write_bad(tmp_path, case)
    with pytest.raises(UserError) as info:
        load_scenario(tmp_path / f"{case}.toml")
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(f"{tmp_path / (case + '.toml')}: [params] {key} = ")
    assert str(tmp_path / name) in msg
    missing = [s for s in BAD_FILES[case][2] if s not in msg]
    assert not missing, f"{msg!r} lacks {missing}"


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
    return subprocess.run([str(CIVSIM), *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.parametrize(
    "args, expected",
    [
        (["run", "short.toml"], ["short.toml", "threshold_file", "short.csv", "99 rows, expected 100"]),
        (["validate", "edge-range.toml"], ["edge-range.toml", "edge_file", "edge-range.csv", "line 3"]),
        (["run", "granovetter", "--citizens", "200"], ["--set", "threshold_file", "100 rows, expected 200"]),
        (["run", "granovetter", "--set", "threshold_file=absent.csv"], ["--set", "absent.csv", "not found"]),
        (["run", "baseline", "--set", "network=file"], ["--set", "network = 'file' needs edge_file"]),
    ],
    ids=["run-short", "validate-edge-range", "citizens-mismatch", "set-missing", "set-no-file"],
)
def test_cli_bad_files_exit_2_with_one_line(args, expected, tmp_path):
    write_bad(tmp_path, "short")
    write_bad(tmp_path, "edge-range")
    res = (
        cli(*args, "--steps", "2", "--out", str(tmp_path / "never"), cwd=tmp_path)
        if args[0] == "run"
        else cli(*args, cwd=tmp_path)
    )
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr + res.stdout
    assert len(lines) == 1 and lines[0].startswith("error:"), res.stderr
    missing = [s for s in expected if s not in lines[0]]
    assert not missing, f"{lines[0]!r} lacks {missing}"
    assert not (tmp_path / "never").exists()


def test_cli_runs_the_granovetter_preset(tmp_path):
    res = cli("run", "granovetter", "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    import pandas as pd

    series = pd.read_csv(tmp_path / "out" / "timeseries.csv")
    assert series["engagement"].iloc[-1] == 1.0


def test_reading_is_cached_but_sees_changes(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("threshold\n0.1\n0.2\n")
    assert inputs.read_thresholds(str(path), 2).tolist() == [0.1, 0.2]
    path.write_text("threshold\n0.3\n0.4\n0.5\n")
    assert inputs.read_thresholds(str(path), 3).tolist() == [0.3, 0.4, 0.5]


def test_agents_page_keeps_the_population_of_a_file_preset():
    """The Mesa page's citizens slider cannot break a preset whose files fix the population."""
    from civsim.app.page_agents import AgentViewModel

    assert AgentViewModel(preset="granovetter", n_citizens=500).p["n_citizens"] == N
    assert AgentViewModel(preset="watts", n_citizens=500).p["n_citizens"] == 500
