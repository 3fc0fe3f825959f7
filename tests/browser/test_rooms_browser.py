# ruff: noqa: E501  (HTML, labels and sentences read better unbroken)
"""Workshop rooms end to end: a host and seven phones (six seats and an observer) play three years.

Real server, real Chromium, one browser context per person (so each has its
own Solara session, as separate phones would). Screenshots for the trainer's
guide go to ``$CIVSIM_SCREENSHOT_DIR`` (``docs/screenshots`` refreshes them).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.browser

SEATS = ["council", "agency-1", "agency-2", "network-1", "network-2", "panel"]
PHONE = {"width": 420, "height": 900}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(what, pytrace=False)
    pytest.skip(what)


@pytest.fixture(scope="module")
def room_server():
    """The app server on ``$CIVSIM_ROOM_TEST_PORT`` (or a free port); stopped by its pid."""
    from civsim.app.server import cdn_cache_dir

    if not any(cdn_cache_dir().glob("@widgetti/solara-vuetify-app@*")):
        _missing(f"Solara's browser assets are missing from {cdn_cache_dir()}")
    port = int(os.environ.get("CIVSIM_ROOM_TEST_PORT") or _free_port())
    (ROOT / "tests" / "artifacts").mkdir(parents=True, exist_ok=True)
    log = open(ROOT / "tests" / "artifacts" / f"room-server-{port}.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "civsim.app.server", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env={**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while True:
        try:
            with urllib.request.urlopen(url + "/room", timeout=5) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None:
            pytest.fail(f"the app server exited with status {proc.returncode}", pytrace=False)
        if time.time() > deadline:
            proc.terminate()
            pytest.fail("the app server did not answer within 90 s", pytrace=False)
        time.sleep(0.5)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    log.close()


@pytest.fixture(scope="module")
def browser(chromium):
    """The session's headless Chromium (tests/browser/conftest.py)."""
    return chromium


def new_page(browser, url: str, ready: str, viewport=PHONE):
    ctx = browser.new_context(viewport=viewport, accept_downloads=True)
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(url)
    page.wait_for_selector(ready, timeout=90_000)
    return page


def open_room(browser, url: str, agencies: str = "2", rounds: str = "3", shot=None):
    host = new_page(browser, url + "/room", ".civsim-open-room", {"width": 1400, "height": 1000})
    if shot is not None:
        host.screenshot(path=str(shot))
    for cls, value in ((".civsim-room-agencies", agencies), (".civsim-room-rounds", rounds)):
        host.click(cls)
        host.click(f".v-menu__content.menuable__content__active .v-list-item:has-text('{value}') >> nth=0")
    host.click(".civsim-open-room")
    host.wait_for_selector(".civsim-room-code")
    return host, host.inner_text(".civsim-room-code").strip()


def take_seat(browser, url: str, code: str, seat: str | None, name: str):
    page = new_page(browser, f"{url}/join?code={code}", ".civsim-name-input input")
    page.fill(".civsim-name-input input", name)
    page.click(f".civsim-take-{seat}" if seat else ".civsim-take-observer")
    page.wait_for_selector(".civsim-my-seat")
    assert page.get_attribute(".civsim-my-seat", "data-seat") == (seat or "observer")
    return page


def decide(page, presses: int = 3) -> None:
    """Move the seat's first lever a few steps (keyboard, as on a phone) and send."""
    page.wait_for_selector(".civsim-decide")
    thumb = page.locator(".civsim-lever [role=slider]").first
    label = page.locator(".civsim-lever .v-label").first
    before = label.inner_text()
    for _ in range(presses):
        thumb.press("ArrowRight")
    page.wait_for_function(
        "([b]) => { const e = document.querySelector('.civsim-lever .v-label'); return e && e.innerText !== b; }",
        arg=[before],
    )
    page.click(".civsim-decide")
    page.wait_for_selector(".civsim-sent, .civsim-state-running, .civsim-state-finished")


def wait_year(page, year: int, timeout: float = 60_000) -> None:
    page.wait_for_function(
        f"() => document.querySelectorAll('.civsim-story-year').length >= {year}", timeout=timeout
    )


def test_host_and_seven_phones_play_three_years(browser, room_server, screenshot_dir):
    host, code = open_room(browser, room_server, shot=screenshot_dir / "room-create.png")
    assert re.fullmatch(r"[2-9A-HJ-NP-Z]{6}", code)
    assert host.locator(".civsim-room-qr svg").count() == 1
    phones = {s: take_seat(browser, room_server, code, s, f"{s} <i>person</i>") for s in SEATS}
    observer = take_seat(browser, room_server, code, None, "Obi")
    host.wait_for_function(
        f"() => document.querySelectorAll('.civsim-seat-row .civsim-seat-holder').length === {len(SEATS)} && "
        "[...document.querySelectorAll('.civsim-seat-holder')].every(e => e.innerText.includes('person'))"
    )
    # names typed by participants arrive as text, never as markup
    assert host.locator(".civsim-host-seats i").count() == 0
    assert "<i>person</i>" in host.inner_text(".civsim-host-seats")
    phones["council"].screenshot(path=str(screenshot_dir / "room-phone.png"), full_page=True)
    # a taken seat cannot be taken again from another phone
    late = new_page(browser, f"{room_server}/join?code={code}", ".civsim-name-input input")
    assert late.locator(".civsim-take-council").is_disabled()
    observer.wait_for_selector(".civsim-state-open")
    assert observer.locator(".civsim-decide").count() == 0  # observers watch

    index_text = host.inner_text(".civsim-host-headline")
    for year in (1, 2):
        for s in SEATS:
            decide(phones[s])
        host.wait_for_function(f"() => document.querySelectorAll('.civsim-story-year').length >= {year}")
        for page in [*phones.values(), observer]:
            wait_year(page, year)
            page.wait_for_selector(".civsim-state-open")
        if year == 1:
            host.screenshot(path=str(screenshot_dir / "room-host.png"), full_page=False)
    assert host.inner_text(".civsim-host-headline") != index_text
    story = host.inner_text(".civsim-host-story")
    assert "Year 1:" in story and "Year 2:" in story
    assert any(t in story for t in ("Whose decisions mattered", "Made little difference"))

    # year 3: half the seats decide, the host closes the round
    for s in SEATS[:3]:
        decide(phones[s])
    host.wait_for_function(
        "() => document.querySelectorAll('.civsim-seat-row[data-decided=\"1\"]').length === 3"
    )
    host.click(".civsim-close-round")
    host.wait_for_selector(".civsim-state-finished", timeout=60_000)
    for page in phones.values():
        page.wait_for_selector(".civsim-state-finished")
        # the page's widgets arrive in several messages: the form is hidden with the same update
        page.wait_for_selector(".civsim-decide", state="hidden", timeout=30_000)

    # debrief: decisions against the curves, replay with other seeds, export
    host.click(".v-tab:has-text('Debrief')")
    host.wait_for_selector(".civsim-debrief-decisions table")
    rows = host.locator(".civsim-debrief-decisions tr").count() - 1
    assert rows >= 2 * len(SEATS) + 3 - 2  # every seat changed a lever in years 1-2, three in year 3
    host.click(".civsim-replay")
    host.wait_for_selector(".civsim-replay-summary", timeout=120_000)
    assert "other seeds" in host.inner_text(".civsim-replay-summary")
    host.screenshot(path=str(screenshot_dir / "room-debrief.png"), full_page=True)
    with host.expect_download() as dl:
        host.click("text=Download decisions.toml")
    data = tomllib.loads(open(dl.value.path(), encoding="utf-8").read())
    assert {d["round"] for d in data["decision"]} == {1, 2, 3}
    assert {s["id"] for s in data["seat"]} == set(SEATS)
    for page in [host, *phones.values(), observer]:
        assert not page.errors, page.errors
        assert "Traceback" not in page.inner_text("body")


def test_rooms_are_isolated_and_a_dropped_phone_rejoins(browser, room_server):
    host_a, code_a = open_room(browser, room_server, rounds="2")
    host_b, code_b = open_room(browser, room_server, rounds="2")
    assert code_a != code_b
    phone = take_seat(browser, room_server, code_a, "council", "Ana")
    token = re.search(r"[?&]t=([^&]+)", phone.url).group(1)
    # the phone drops and comes back: the same seat, no new claim
    phone.reload()
    phone.wait_for_selector(".civsim-my-seat")
    assert phone.get_attribute(".civsim-my-seat", "data-seat") == "council"
    # the token of room A means nothing in room B
    other = new_page(browser, f"{room_server}/join?code={code_b}&t={token}", ".civsim-join-error")
    assert "not in the room" in other.inner_text(".civsim-join-error")
    # room B sees nobody from room A
    assert "Ana" not in host_b.inner_text(".civsim-host-seats")
    host_a.wait_for_function("() => document.querySelector('.civsim-host-seats').innerText.includes('Ana')")
    # a wrong code is one line
    bad = new_page(browser, f"{room_server}/join?code=AAAAAA", ".civsim-join-error")
    assert "no open room" in bad.inner_text(".civsim-join-error")
