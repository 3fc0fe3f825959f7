"""Fuzzing (issue 11): random TOML documents and random command lines.

Whatever comes in, the CLI exits 0 or 2 -- never a traceback -- and writes
nothing outside ``--out``; an upload is a scenario or one ``UserError`` line.
Kept small and fast: tiny models (a memory limit refuses large ones up
front), a few dozen examples each.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from civsim.app.upload import parse_upload
from civsim.cli import app
from civsim.errors import UserError
from civsim.scenario import Scenario

REPO = Path(__file__).resolve().parents[1]
LEVERS = [
    "outreach",
    "austerity_rate",
    "n_citizens",
    "n_neighbourhoods",
    "mutual_aid",
    "shock_month",
    "threshold_mean",
]
TOP = ["description", "extends", "seed", "steps", "params", "outreach", "bogus"]

scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.sampled_from([0, 1, 2, 10, 60, -1, 2_000_000]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, 0.3, -0.05, 0.99]),
    st.text(max_size=12),
    st.sampled_from(["baseline", "austerity", "../x.toml", "/etc/passwd", "", "self.toml"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(LEVERS + ["k"]), inner, max_size=3)
    ),
    max_leaves=8,
)
documents = st.fixed_dictionaries(
    {},
    optional={
        **{k: values for k in TOP if k != "params"},
        "params": st.dictionaries(st.sampled_from(LEVERS + ["nope"]), values, max_size=4),
    },
)


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + "}"


def toml_text(doc: dict) -> str:
    lines = [f"{k} = {toml_value(v)}" for k, v in doc.items() if k != "params" or not isinstance(v, dict)]
    if isinstance(doc.get("params"), dict):
        lines.append("[params]")
        lines += [f"{k} = {toml_value(v)}" for k, v in doc["params"].items()]
    return "\n".join(lines) + "\n"


noise = st.lists(
    st.one_of(
        st.sampled_from(
            ["[", "]", "{", "}", "=", ".", '"', "'''", "\n", "#", "[params]", "extends", " ", ","]
        ),
        st.text(max_size=6),
    ),
    max_size=40,
).map("".join)


def invoke(args: list[str]):
    result = CliRunner().invoke(app, args, catch_exceptions=True)
    exc = result.exception
    if isinstance(exc, UserError):  # civsim.cli.main turns these into one line and exit 2
        return 2, result
    if exc is not None and not isinstance(exc, SystemExit):
        import traceback

        raise AssertionError(f"{args!r} raised {''.join(traceback.format_exception(exc))}")
    assert "Traceback" not in result.output
    return result.exit_code, result


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("CIVSIM_MEMORY_LIMIT", "450M")  # big runs are refused, not run
    monkeypatch.setenv("COLUMNS", "200")
    return work


FUZZ = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)


@settings(FUZZ, max_examples=20)
@given(doc=documents, raw=noise, use_raw=st.booleans())
def test_random_scenario_files_exit_0_or_2_and_write_only_to_out(sandbox, doc, raw, use_raw):
    text = raw if use_raw else toml_text(doc)
    scen = sandbox / "self.toml"
    scen.write_text(text)
    out = sandbox / "out"
    before = files_under(sandbox)
    code, res = invoke(["validate", str(scen)])
    assert code in (0, 2), res.output
    code, res = invoke(
        [
            "run",
            str(scen),
            "--steps",
            "2",
            "--citizens",
            "20",
            "--engine",
            "batch",
            "--out",
            str(out),
            "--force",
        ]
    )
    assert code in (0, 2), res.output
    new = files_under(sandbox) - before
    assert all(p == out or out in p.parents for p in new), new
    if code == 0:
        assert (out / "manifest.json").is_file()


TOKENS = [
    "run", "validate", "params", "scenarios", "sweep", "report", "sensitivity",
    "--steps", "--seed", "--citizens", "--set", "--format", "--engine", "--reps", "--force", "--strand",
    "--json", "--metric", "--to", "--workers", "-q",
    "baseline", "austerity", "nosuch", "self.toml", "out", "../escape", "/dev/null", "",
    "1", "2", "0", "-1", "3.5", "nan", "99999999999999999999999", "csv", "parquet", "mesa", "batch", "gpu",
    "outreach=0.2", "outreach=[[[[1]]]]", "n_citizens=2000000", "austerity_rate=x", "=",
]  # fmt: skip


@FUZZ
@given(args=st.lists(st.sampled_from(TOKENS), min_size=1, max_size=8))
def test_random_command_lines_exit_0_or_2_and_write_only_to_out(sandbox, args):
    if args[0] in ("run", "sweep"):  # keep them tiny, and always say where to write
        args = [*args, "--steps", "2", "--citizens", "20"] if args[0] == "run" else args
    out = sandbox / "out"
    (sandbox / "self.toml").write_text('extends = "baseline"\nsteps = 2\n[params]\nn_citizens = 20\n')
    before = files_under(sandbox)
    full = [*args, "--out", str(out)] if args[0] in ("run", "sweep", "sensitivity") else args
    code, res = invoke(full)
    assert code in (0, 2), (full, res.output)
    new = files_under(sandbox) - before
    assert all(p == out or out in p.parents for p in new), (full, new)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    data=st.one_of(
        st.binary(max_size=300), noise.map(str.encode), documents.map(lambda d: toml_text(d).encode())
    )
)
def test_random_uploads_are_a_scenario_or_one_line(data):
    try:
        s = parse_upload("up.toml", data)
    except UserError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("up.toml: ")
        return
    assert isinstance(s, Scenario)
