"""Hostile and careless input (issue 11): uploads confined to presets, bounded TOML, one-line errors.

Upload cases go through the app's real upload path: :func:`read_upload`
(what the file chooser's thread calls with ipyvuetify's file object) and
:func:`parse_upload` (what the page calls with the bytes).
"""

from __future__ import annotations

import os
import re
import threading
import time
import tracemalloc

import pytest

from civsim import safeio
from civsim.app.upload import MAX_BYTES, display_name, parse_upload, read_upload
from civsim.errors import UserError
from civsim.scenario import apply_overrides, load_scenario, preset_names


def upload(text: str | bytes, name: str = "mine.toml"):
    data = text.encode() if isinstance(text, str) else text
    return parse_upload(name, data)


def refusal(text: str, name: str = "mine.toml") -> str:
    with pytest.raises(UserError) as err:
        upload(text, name)
    msg = str(err.value)
    assert "\n" not in msg
    return msg


# ---------------------------------------------------------------- uploads: extends


@pytest.fixture
def victim(tmp_path):
    """Another user's scenario on the server (a file the browser must not reach)."""
    p = tmp_path / "other_user.toml"
    p.write_text("[params]\noutreach = 0.91\n")
    return p


def test_upload_may_extend_a_preset_by_name():
    s = upload('extends = "austerity"\n[params]\noutreach = 0.5\n')
    assert s.params["outreach"] == 0.5 and "budget_path" in s.params


def test_upload_cannot_read_server_files_and_every_refusal_is_the_same(victim, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "relative.toml").write_text("[params]\noutreach = 0.92\n")
    os.mkfifo(tmp_path / "fifo.toml")
    targets = {
        "absolute path to another user's file": str(victim),
        "path relative to the server's directory": "relative.toml",
        "relative name built from the upload's own name": "other_user.toml",
        "a secret file": "/etc/shadow",
        "the process environment": "/proc/self/environ",
        "a missing file": str(tmp_path / "nothere.toml"),
        "a directory": str(tmp_path),
        "a FIFO (would block a reader)": str(tmp_path / "fifo.toml"),
        "traversal": "../../../../etc/passwd",
        "a typo of a preset": "baselin",
    }
    messages = {}
    for why, target in targets.items():
        t0 = time.perf_counter()
        msg = refusal(f'extends = "{target}"\n', name=str(tmp_path / "other_user.toml"))
        assert time.perf_counter() - t0 < 2, why
        assert "may extend only a preset" in msg, (why, msg)
        # nothing read: the other user's value never reaches the message or a scenario
        assert "0.91" not in msg and "0.92" not in msg
        messages[why] = re.sub(r"extends = '.*?' is not allowed", "extends = TARGET is not allowed", msg)
    assert len(set(messages.values())) == 1, messages  # no oracle for which files exist


def test_upload_filename_is_only_a_label(victim):
    # the client's filename points next to the victim: it is never used to resolve extends
    assert display_name(str(victim)) == victim.name
    assert display_name("..\\..\\evil.toml") == "evil.toml"
    assert display_name("a\x00b\x1b[31m.toml") == "ab[31m.toml"
    assert display_name("") == "uploaded.toml"
    assert len(display_name("x" * 5000)) <= 80
    msg = refusal('extends = "other_user.toml"\n', name=str(victim))
    assert str(victim.parent) not in msg


def test_upload_extends_non_string_or_empty_is_refused():
    assert "may extend only a preset" in refusal("extends = 3\n")
    assert "may extend only a preset" in refusal('extends = ""\n')


def test_upload_size_is_capped_before_decoding():
    assert "must be under" in refusal(b"#" * (MAX_BYTES + 1))


# ---------------------------------------------------------------- uploads: the read


class FakeClientFile:
    """Stands in for ipyvuetify's ClientSideFile: ``read(n)`` gives up to ``n`` bytes."""

    def __init__(self, data: bytes, fail: bool = False, delay: float = 0.0):
        self.data, self.fail, self.delay, self.asked = data, fail, delay, []

    def read(self, n: int = -1) -> bytes:
        self.asked.append(n)
        time.sleep(self.delay)
        if self.fail:
            raise Exception("memoryview assignment: lvalue and rvalue have different structures")
        return self.data if n < 0 else self.data[:n]


def test_read_upload_refuses_a_large_file_without_reading_it():
    f = FakeClientFile(b"x")
    with pytest.raises(UserError, match="must be under"):
        read_upload({"name": "big.toml", "size": 10**9, "file_obj": f})
    assert f.asked == []


def test_read_upload_reads_only_the_announced_size_and_detects_truncation():
    f = FakeClientFile(b"[params]\noutreach = 0.5\nEXTRA")
    assert read_upload({"name": "a.toml", "size": 23, "file_obj": f}) == (
        "a.toml",
        b"[params]\noutreach = 0.5",
    )
    assert f.asked == [23]
    short = FakeClientFile(b"[params]\n")
    with pytest.raises(UserError, match="interrupted"):
        read_upload({"name": "a.toml", "size": 100, "file_obj": short})


def test_read_upload_race_errors_are_one_line_and_superseded_reads_are_dropped():
    with pytest.raises(UserError, match="interrupted; choose the file again"):
        read_upload({"name": "a.toml", "size": 5, "file_obj": FakeClientFile(b"12345", fail=True)})
    cancel = threading.Event()
    cancel.set()  # a newer file was chosen meanwhile
    assert (
        read_upload({"name": "a.toml", "size": 5, "file_obj": FakeClientFile(b"12345", fail=True)}, cancel)
        is None
    )


def test_read_upload_serialises_concurrent_reads():
    active, peak = [0], [0]
    lock = threading.Lock()

    class Slow(FakeClientFile):
        def read(self, n=-1):
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
            time.sleep(0.05)
            with lock:
                active[0] -= 1
            return self.data[:n]

    threads = [
        threading.Thread(target=read_upload, args=({"name": "a", "size": 3, "file_obj": Slow(b"abc")},))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 1


# ---------------------------------------------------------------- TOML bounds


@pytest.mark.parametrize(
    "text",
    [
        "x = " + "[" * 100_000 + "]" * 100_000 + "\n",
        "x = " + "{a = " * 5_000 + "1" + "}" * 5_000 + "\n",
        "a" + ".a" * 20_000 + " = 1\n",
        "[" + ".".join(["t"] * 5_000) + "]\n",
    ],
    ids=["deep-arrays", "deep-inline-tables", "long-dotted-key", "long-table-header"],
)
def test_deep_toml_is_refused_quickly_with_little_memory(text, tmp_path):
    tracemalloc.start()
    t0 = time.perf_counter()
    with pytest.raises(UserError) as err:
        upload(text)
    took = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert "not allowed" in str(err.value) and "\n" not in str(err.value)
    assert took < 1.0 and peak < 20 * 2**20, (took, peak)
    path = tmp_path / "deep.toml"
    path.write_text(text)
    with pytest.raises(UserError, match="deep.toml: line 1"):
        load_scenario(str(path))


def test_toml_shape_check_ignores_strings_and_comments():
    ok = 'description = "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.1.2.3.4.5.6.7.8 [[[[[["\n'
    ok += "# " + "[" * 100 + "." * 100 + "\n"
    ok += "description2 = '''" + "{" * 50 + "'''\n"
    safeio.check_toml_shape(ok, "x")  # no refusal
    with pytest.raises(UserError):
        safeio.check_toml_shape("x = " + "[" * 40 + "]" * 40, "x")


def test_set_override_with_deep_value_is_one_line():
    s = load_scenario("baseline")
    with pytest.raises(UserError, match="nested"):
        apply_overrides(s, ["outreach=" + "[" * 10_000 + "]" * 10_000])


def test_huge_file_is_not_read_whole(tmp_path):
    big = tmp_path / "big.toml"
    with open(big, "wb") as fh:
        fh.truncate(2**30)  # 1 GiB, sparse
    tracemalloc.start()
    with pytest.raises(UserError, match="at most"):
        load_scenario(str(big))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 10 * 2**20
    (tmp_path / "child.toml").write_text('extends = "big.toml"\n')
    with pytest.raises(UserError, match="child.toml: extends = 'big.toml'.*at most"):
        load_scenario(str(tmp_path / "child.toml"))


# ---------------------------------------------------------------- scenario files on the CLI side


def test_extends_cycle_through_growing_relative_path_is_a_cycle(tmp_path):
    d = tmp_path / "dir"
    d.mkdir()
    (d / "self.toml").write_text('extends = "../dir/self.toml"\n')
    with pytest.raises(UserError, match="cycle"):
        load_scenario(str(d / "self.toml"))


def test_long_extends_chain_is_bounded(tmp_path):
    for i in range(40):
        (tmp_path / f"s{i}.toml").write_text(f'extends = "s{i + 1}.toml"\n')
    (tmp_path / "s40.toml").write_text("")
    with pytest.raises(UserError, match="chain longer than"):
        load_scenario(str(tmp_path / "s0.toml"))


def test_missing_extends_target_names_file_and_key(tmp_path):
    (tmp_path / "a.toml").write_text('extends = "nothere.toml"\n')
    with pytest.raises(UserError) as err:
        load_scenario(str(tmp_path / "a.toml"))
    msg = str(err.value)
    assert msg.startswith(f"{tmp_path / 'a.toml'}: extends = 'nothere.toml'") and "not found" in msg
    (tmp_path / "b.toml").write_text('extends = "baselinee"\n')
    with pytest.raises(UserError, match=r"b.toml: extends = 'baselinee'.*did you mean 'baseline'"):
        load_scenario(str(tmp_path / "b.toml"))


def test_empty_extends_says_what_is_allowed(tmp_path):
    (tmp_path / "a.toml").write_text('extends = ""\n')
    with pytest.raises(UserError) as err:
        load_scenario(str(tmp_path / "a.toml"))
    assert "extends = ''" in str(err.value) and "preset name" in str(err.value)
    assert ".: file not found" not in str(err.value)


def test_directory_and_fifo_are_named_as_such(tmp_path):
    (tmp_path / "d.toml").mkdir()
    with pytest.raises(UserError, match="is a directory"):
        load_scenario(str(tmp_path / "d.toml"))
    os.mkfifo(tmp_path / "p.toml")
    t0 = time.perf_counter()
    with pytest.raises(UserError, match="named pipe"):
        load_scenario(str(tmp_path / "p.toml"))
    assert time.perf_counter() - t0 < 2


def test_parameter_at_top_level_has_no_silly_hint(tmp_path):
    (tmp_path / "a.toml").write_text("outreach = 0.3\n")
    with pytest.raises(UserError) as err:
        load_scenario(str(tmp_path / "a.toml"))
    msg = str(err.value)
    assert "did you mean 'outreach'" not in msg
    assert "'outreach'" in msg and "[params]" in msg


def test_presets_still_load():
    for name in preset_names():
        load_scenario(name)


def test_cli_seed_range_matches_scenario_files(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from civsim.scenario import MAX_SEED

    (tmp_path / "s.toml").write_text(f"seed = {MAX_SEED + 1}\n")
    with pytest.raises(UserError, match=r"seed = 9223372036854775808 is not allowed.*9223372036854775807"):
        load_scenario(str(tmp_path / "s.toml"))
    civsim = Path(sys.executable).parent / "civsim"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    res = subprocess.run(
        [str(civsim), "run", "baseline", "--seed", str(MAX_SEED + 1), "--out", str(tmp_path / "o")],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert res.returncode == 2 and "--seed" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "o").exists()


def test_experiment_file_that_is_a_fifo_or_directory_is_named(tmp_path):
    from civsim.experiments.spec import load_experiment

    os.mkfifo(tmp_path / "e.toml")
    with pytest.raises(UserError, match="named pipe"):
        load_experiment(tmp_path / "e.toml")
    (tmp_path / "d.toml").mkdir()
    with pytest.raises(UserError, match="is a directory"):
        load_experiment(tmp_path / "d.toml")
