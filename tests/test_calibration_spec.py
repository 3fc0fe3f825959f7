"""Calibration files and the shipped evidence: bad files give one line and exit 2; data as published."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from civsim.calibration.evidence import evidence_target, load_evidence, month_index, observation_sd
from civsim.calibration.spec import load_calibration
from civsim.errors import UserError

CIVSIM = Path(sys.executable).parent / "civsim"
REPO = Path(__file__).resolve().parents[1]

GOOD = textwrap.dedent(
    """
    name = "t"
    scenario = "baseline"
    engine = "toy"
    steps = 48
    citizens = 100
    replicates = 2
    seed = 1
    [parameters]
    outreach = [0.0, 1.0]
    [[targets]]
    metric = "engagement"
    step = 24
    value = 0.39
    sd = 0.01
    """
)


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "cal.toml"
    p.write_text(text)
    return p


def test_good_file_loads(tmp_path):
    spec = load_calibration(write(tmp_path, GOOD))
    assert spec.names == ["outreach"] and spec.fit_targets[0].step == 24
    assert spec.base["n_citizens"] == 100


BAD = [
    (
        "unknown parameter",
        GOOD.replace("outreach = [", "outreech = ["),
        ["parameters.outreech", "did you mean 'outreach'"],
    ),
    (
        "low >= high",
        GOOD.replace("[0.0, 1.0]", "[0.6, 0.2]"),
        ["parameters.outreach", "[0.6, 0.2]", "low must be below high"],
    ),
    (
        "outside schema",
        GOOD.replace("[0.0, 1.0]", "[0.0, 3.0]"),
        ["parameters.outreach", "within a number in [0, 1]"],
    ),
    (
        "unknown metric",
        GOOD.replace('"engagement"', '"happiness"'),
        ["targets[0].metric", "'happiness'", "expected one of"],
    ),
    ("step beyond steps", GOOD.replace("step = 24", "step = 60"), ["targets[0].step", "60", "[0, 48]"]),
    ("missing target fields", GOOD.replace("sd = 0.01\n", ""), ["targets[0]", "missing 'sd'"]),
    ("bad sd", GOOD.replace("sd = 0.01", "sd = 0"), ["targets[0].sd", "> 0"]),
    ("unknown key", GOOD + "\nwaves = 3\n", ["unknown key 'waves'"]),
    (
        "unknown evidence",
        GOOD + '\n[[targets]]\nevidence = "cls_2099"\n',
        ["targets[1].evidence", "'cls_2099'"],
    ),
    ("syntax", GOOD + "\n[parameters\n", ["not valid TOML"]),
    ("no fit target", GOOD.replace("sd = 0.01", 'sd = 0.01\nrole = "predict"'), ["at least one target"]),
]


@pytest.mark.parametrize("text,words", [(b[1], b[2]) for b in BAD], ids=[b[0] for b in BAD])
def test_bad_file_is_one_line_naming_the_problem(tmp_path, text, words):
    path = write(tmp_path, text)
    with pytest.raises(UserError) as info:
        load_calibration(path)
    msg = str(info.value)
    assert "\n" not in msg and str(path) in msg
    for w in words:
        assert w in msg, msg


@pytest.mark.parametrize("case", [BAD[0], BAD[1], BAD[3], BAD[4], BAD[5]], ids=lambda c: c[0])
def test_cli_bad_file_exits_2_with_one_line(tmp_path, case):
    path = write(tmp_path, case[1])
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    r = subprocess.run(
        [str(CIVSIM), "calibrate", str(path), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in r.stderr
    assert not (tmp_path / "o").exists()


def test_shipped_volunteering_file_loads():
    spec = load_calibration(REPO / "experiments" / "calibration" / "calibrate_volunteering.toml")
    roles = {t.name: t.role for t in spec.targets}
    assert roles["cls_formal_monthly_2017_18"] == "fit" and roles["cls_formal_monthly_2019_20"] == "predict"
    assert roles["cls_formal_monthly_2020_21"] == "show"


def test_evidence_is_as_published_and_sourced():
    ev = load_evidence()
    cls = ev[ev.series == "cls_formal_monthly"].set_index("period")["value"].to_dict()
    assert cls == {
        "2013/14": 0.27,
        "2014/15": 0.27,
        "2015/16": 0.27,
        "2016/17": 0.22,
        "2017/18": 0.22,
        "2018/19": 0.22,
        "2019/20": 0.23,
        "2020/21": 0.17,
        "2021/22": 0.16,
    }
    assert ev["source"].str.len().min() > 20 and ev["url"].str.startswith("http").all()
    assert ev.loc["nao_spending_power_2017_18", "value"] == pytest.approx(1 - 0.286)


def test_measurement_model_maps_fieldwork_to_model_months():
    assert month_index("2010-04") == 0 and month_index("2017-08") == 88
    t = evidence_target("cls_formal_monthly_2017_18")
    assert t.window == (88, 95) and t.metric == "engagement" and t.step == 91
    # a later start date shifts every month
    assert evidence_target("cls_formal_monthly_2017_18", start="2011-04").window == (76, 83)


def test_observation_error_is_sampling_plus_rounding():
    row = load_evidence().loc["cls_formal_monthly_2021_22"]
    expected = (2.0 * 0.16 * 0.84 / 10126 + 0.01**2 / 12) ** 0.5
    assert observation_sd(row) == pytest.approx(expected)
    small = load_evidence().loc["cls_formal_monthly_2014_15"]
    assert observation_sd(small) > observation_sd(row)  # fewer respondents, wider error


def test_docs_page_shows_the_shipped_evidence_as_it_is():
    from civsim.calibration.evidence import markdown_table

    text = (REPO / "docs" / "calibration.md").read_text()
    assert markdown_table() in text, "docs/calibration.md is stale: rerun the command under 'Reproduce' in it"
