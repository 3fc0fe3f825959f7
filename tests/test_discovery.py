"""Scenario discovery on synthetic data with a known answer, and its bad input.

The cases of interest are exactly the rows with a > 0.7 and b < 0.3 (the
metric is low there), with noise on the metric and three irrelevant
columns: PRIM and CART must recover the box's bounds, with high coverage
and density, and restrict nothing else.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from civsim.cli import app
from civsim.errors import UserError
from civsim.experiments.discovery import _choose, boxes_json, details_json, discover, in_limits, quasi_p

TOL = 0.05


def synthetic(n: int = 1200, seed: int = 3, noise: float = 0.08) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({k: rng.random(n) for k in ("a", "b", "c", "d", "e")})
    inside = (x.a > 0.7) & (x.b < 0.3)
    y = np.where(inside, 0.3, 0.7) + rng.normal(0.0, noise, n)
    return x, y


@pytest.mark.parametrize("method", ["prim", "cart"])
def test_recovers_the_known_box(method):
    x, y = synthetic()
    d = discover(x, y, metric="m", direction="below", threshold=0.5, method=method)
    b = d.boxes[0]
    assert set(b.limits) == {"a", "b"}, b.limits
    assert abs(b.limits["a"][0] - 0.7) < TOL and b.limits["a"][1] >= x.a.max() - 1e-12
    assert abs(b.limits["b"][1] - 0.3) < TOL and b.limits["b"][0] <= x.b.min() + 1e-12
    assert b.coverage > 0.85 and b.density > 0.85
    true_mass = ((x.a > 0.7) & (x.b < 0.3)).mean()
    assert abs(b.mass - true_mass) < 0.03
    assert all(p < 1e-6 for p in b.qp.values())


def test_above_is_the_mirror_of_below():
    x, y = synthetic()
    d = discover(x, -y, metric="m", direction="above", threshold=-0.5)
    assert set(d.boxes[0].limits) == {"a", "b"}


def test_box_statistics_are_what_they_say():
    x, y = synthetic()
    d = discover(x, y, metric="m", direction="below", threshold=0.5)
    b = d.boxes[0]
    inside = in_limits(x, b.limits)
    cases = y < 0.5
    assert b.rows == inside.sum() and b.cases == (inside & cases).sum()
    assert b.coverage == pytest.approx((inside & cases).sum() / cases.sum())
    assert b.density == pytest.approx((inside & cases).sum() / inside.sum())
    assert b.mass == pytest.approx(inside.mean())


def test_irrelevant_restriction_gets_a_large_quasi_p():
    x, y = synthetic()
    qp = quasi_p(x, y < 0.5, {"a": (0.7, 1.0), "b": (0.0, 0.3), "c": (0.0, 0.9)})
    assert qp["a"] < 1e-6 and qp["b"] < 1e-6 and qp["c"] > 0.05


def test_box_rule_takes_most_coverage_at_the_density_asked_for():
    traj = pd.DataFrame(
        {
            "coverage": [1.0, 0.9, 0.8, 0.7, 0.5],
            "density": [0.2, 0.6, 0.82, 0.85, 0.99],
            "mass": [1.0, 0.5, 0.3, 0.25, 0.1],
            "res_dim": [0, 1, 2, 1, 3],
        }
    )
    assert _choose(traj, 0.8) == (2, True)
    assert _choose(traj, 0.9) == (4, True)
    assert _choose(traj, 0.995) == (4, False)  # none reaches it: the densest


def test_override_box_and_pasting_never_lowers_density():
    x, y = synthetic(noise=0.15)
    d = discover(x, y, metric="m", direction="below", threshold=0.5, box=5)
    b, t = d.boxes[0], d.trajectories[0]
    assert b.trajectory_index == 5
    assert b.density >= t["density"][5] - 1e-12
    with pytest.raises(UserError, match="--box 999 is not allowed"):
        discover(x, y, metric="m", direction="below", threshold=0.5, box=999)


def test_pasting_widens_a_box_cut_too_narrow():
    # a trajectory step that peeled into the true box gets pasted back out, raising coverage
    x, y = synthetic(n=2000, noise=0.0)
    d = discover(x, y, metric="m", direction="below", threshold=0.5, min_density=0.99)
    b, t = d.boxes[0], d.trajectories[0]
    assert b.density >= 0.99
    assert b.coverage >= t["coverage"][b.trajectory_index]


def test_a_second_box_is_found_on_the_rows_the_first_leaves():
    rng = np.random.default_rng(1)
    n = 2000
    x = pd.DataFrame({k: rng.random(n) for k in ("a", "b", "c", "d")})
    bad = ((x.a > 0.75) & (x.b > 0.5)) | ((x.c < 0.15) & (x.d < 0.5))
    d = discover(x, np.where(bad, 0.0, 1.0), metric="m", direction="below", threshold=0.5, max_boxes=3)
    assert len(d.boxes) >= 2
    assert {"a", "b"} <= set(d.boxes[0].limits) and set(d.boxes[1].limits) == {"c", "d"}
    assert abs(d.boxes[1].limits["c"][1] - 0.15) < TOL
    assert all(b.density >= 0.8 for b in d.boxes)
    assert sum(b.coverage for b in d.boxes) > 0.9


def test_boxes_json_has_the_documented_shape():
    x, y = synthetic()
    doc = boxes_json(discover(x, y, metric="m", direction="below", threshold=0.5))
    json.dumps(doc, allow_nan=False)
    assert set(doc) == {"boxes"}
    for b in doc["boxes"]:
        assert set(b) == {"coverage", "density", "mass", "limits"}
        assert set(b["limits"]) == {"a", "b"}  # only restricted factors
        assert all(len(v) == 2 and v[0] <= v[1] for v in b["limits"].values())


def test_sentence_names_the_conditions_and_shares():
    x, y = synthetic()
    d = discover(x, y, metric="final_outcome_index", direction="below", threshold=0.5)
    s = details_json(d)["boxes"][0]["sentence"]
    b = d.boxes[0]
    assert s.startswith("final outcome index falls below 0.5 in ")
    assert f"{100 * b.density:.0f}% of the rows where" in s
    import re

    a = float(re.search(r"a is above ([0-9.]+)", s).group(1))
    b_hi = float(re.search(r"b is below ([0-9.]+)", s).group(1))
    assert abs(a - 0.7) < TOL and abs(b_hi - 0.3) < TOL
    assert f"hold {100 * b.coverage:.0f}% of all such cases" in s


def test_no_case_or_all_cases_is_refused():
    x, y = synthetic()
    with pytest.raises(UserError, match="no row has m below -1"):
        discover(x, y, metric="m", direction="below", threshold=-1.0)
    with pytest.raises(UserError, match="every row"):
        discover(x, y, metric="m", direction="below", threshold=5.0)


# ---------------------------------------------------------------- the CLI


def _invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_cli_writes_boxes_and_figures(tmp_path):
    x, y = synthetic()
    table = x.assign(m=y)
    table.to_csv(tmp_path / "t.csv", index=False)
    for method in ("prim", "cart"):
        out = tmp_path / method
        res = _invoke(
            "discover",
            str(tmp_path / "t.csv"),
            "--metric",
            "m",
            "--below",
            "0.5",
            "--method",
            method,
            "--out",
            str(out),
        )
        assert res.exit_code == 0, res.output
        doc = json.loads((out / "boxes.json").read_text())
        assert set(doc["boxes"][0]["limits"]) == {"a", "b"}
        assert (out / "box_scatter.png").stat().st_size > 1000
        assert (out / ("peeling_trajectory.png" if method == "prim" else "cart_tree.png")).is_file()
        assert "box 1:" in res.output and "quasi-p" in res.output


def test_cli_reads_parquet_and_restricts_to_given_factors(tmp_path):
    x, y = synthetic()
    x.assign(m=y).to_parquet(tmp_path / "t.parquet")
    out = tmp_path / "o"
    res = _invoke(
        "discover",
        str(tmp_path / "t.parquet"),
        "-m",
        "m",
        "--below",
        "0.5",
        "--factors",
        "a,c,d",
        "--out",
        str(out),
    )
    assert res.exit_code == 0, res.output
    doc = json.loads((out / "boxes.json").read_text())
    details = json.loads((out / "discovery.json").read_text())
    assert details["factors"] == ["a", "c", "d"] and set(doc["boxes"][0]["limits"]) <= {"a", "c", "d"}


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--metric", "nope", "--below", "0.5"), "--metric 'nope' is not a column"),
        (("--metric", "m", "--below", "0.5", "--factors", "a,zz"), "'zz' is not a column"),
        (("--metric", "m", "--below", "-3"), "no row has m below -3"),
        (("--metric", "m", "--below", "0.5", "--factors", "a,label"), "'label' is not numeric"),
        (("--metric", "label", "--below", "0.5"), "'label' is not numeric"),
        (("--metric", "m"), "exactly one of --below X or --above X"),
        (("--metric", "m", "--below", "0.5", "--method", "svm"), "--method 'svm' is not allowed"),
        (("--metric", "m", "--below", "0.5", "--min-density", "1.5"), "--min-density 1.5 is not allowed"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, args, needle):
    x, y = synthetic(n=200)
    x.assign(m=y, label="x").to_csv(tmp_path / "t.csv", index=False)
    res = _invoke("discover", str(tmp_path / "t.csv"), *args, "--out", str(tmp_path / "o"))
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], res.stderr
    assert "Traceback" not in res.output


def test_cli_empty_table_and_missing_file(tmp_path):
    (tmp_path / "e.csv").write_text("a,b,m\n")
    for path, needle in ((tmp_path / "e.csv", "the table is empty"), (tmp_path / "no.csv", "no such file")):
        res = _invoke("discover", str(path), "--metric", "m", "--below", "0.5")
        assert res.exit_code == 2 and needle in res.stderr, res.stderr
        assert len(res.stderr.strip().splitlines()) == 1


def test_pasting_widens_a_side_where_the_next_slab_is_denser():
    from civsim.experiments.discovery import paste

    rng = np.random.default_rng(2)
    n = 4000
    x = pd.DataFrame({k: rng.random(n) for k in ("a", "b", "c")})
    # cases: the core a > 0.7, b < 0.3, and a dense slab just below it in a (0.6 < a <= 0.7, b < 0.5)
    y = ((x.a > 0.7) & (x.b < 0.3)) | ((x.a > 0.6) & (x.a <= 0.7) & (x.b < 0.5))
    start = {"a": (0.7, 1.0), "b": (0.0, 0.45)}
    pasted = paste(x, y.to_numpy(), start)
    assert pasted["a"][0] < 0.7 - 0.02  # widened down into the denser slab
    assert pasted["b"] == start["b"] or pasted["b"][1] >= 0.45
    d0 = y[in_limits(x, start)].mean()
    d1 = y[in_limits(x, pasted)].mean()
    assert d1 > d0
    # a box already at density 1 is left as it is
    core = {"a": (0.75, float(x.a.max())), "b": (float(x.b.min()), 0.25)}
    assert paste(x, y.to_numpy(), core) == core


def test_cli_on_a_sweep_directory_averages_replicates(tmp_path):
    import textwrap

    from civsim.experiments.runner import run_sweep
    from civsim.experiments.spec import load_experiment

    exp = tmp_path / "sw.toml"
    exp.write_text(
        textwrap.dedent("""
        [experiment]
        name = "sw"
        seed = 7
        steps = 12
        replicates = 2
        [params]
        n_citizens = 100
        [factors]
        outreach = { range = [0.0, 1.0] }
        participation_barrier = { range = [0.0, 0.5] }
        [design]
        kind = "lhs"
        samples = 40
        """)
    )
    run_sweep(load_experiment(exp), tmp_path / "sw", workers=1, engine="toy")
    out = tmp_path / "d"
    res = _invoke(
        "discover", str(tmp_path / "sw"), "-m", "final_engagement", "--below", "0.3", "--out", str(out)
    )
    assert res.exit_code == 0, res.output
    doc = json.loads((out / "boxes.json").read_text())
    details = json.loads((out / "discovery.json").read_text())
    assert details["rows"] == 40 and details["factors"] == ["outreach", "participation_barrier"]
    res = _invoke(
        "discover",
        str(tmp_path / "sw"),
        "-m",
        "final_engagement",
        "--below",
        "0.3",
        "--per-run",
        "--out",
        str(out),
    )
    assert res.exit_code == 0 and json.loads((out / "discovery.json").read_text())["rows"] == 80
    # the toy's engagement rises with outreach: low engagement is a box of low outreach
    assert "outreach" in doc["boxes"][0]["limits"]
