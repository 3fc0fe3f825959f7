"""Fixtures for the end-to-end tests: one app server and one headless Chromium per session.

The server is the real thing (``python -m civsim.app.server``, what ``civsim
app`` runs) on a free port of 127.0.0.1; the browser is Debian's chromium
driven by Playwright (``playwright install`` cannot download browsers here).
Screenshots go to ``$CIVSIM_SCREENSHOT_DIR`` (default
``tests/artifacts/screenshots``); ``CIVSIM_SCREENSHOT_DIR=docs/screenshots``
refreshes the README's.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CIVSIM_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT = {"width": 1400, "height": 1000}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _missing(what: str) -> None:
    """Skip locally, fail in CI: CI must have everything the browser tests need."""
    if os.environ.get("CI"):
        pytest.fail(what, pytrace=False)
    pytest.skip(what)


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    d = Path(os.environ.get("CIVSIM_SCREENSHOT_DIR", ROOT / "tests" / "artifacts" / "screenshots"))
    if not d.is_absolute():
        d = ROOT / d
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture(scope="session")
def app_server():
    """Base URL of a running app server; stopped (by its pid) after the session."""
    from civsim.app.server import cdn_cache_dir

    if not any(cdn_cache_dir().glob("@widgetti/solara-vuetify-app@*")):
        _missing(
            "Solara's browser assets are missing from "
            f"{cdn_cache_dir()}: run scripts/install_solara_assets.py"
        )
    port = _free_port()
    (ROOT / "tests" / "artifacts").mkdir(parents=True, exist_ok=True)
    log = open(ROOT / "tests" / "artifacts" / f"app-server-{port}.log", "w")
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "civsim.app.server", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while True:
        try:
            with urllib.request.urlopen(url + "/", timeout=5) as r:
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
    proc.terminate()  # civsim.app.server forwards SIGTERM to the solara process it started
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    log.close()


@pytest.fixture(scope="session")
def chromium():
    """Headless Debian chromium through Playwright's sync API."""
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        _missing(f"{CHROMIUM} not found: run scripts/install_browser.sh (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        yield browser
        browser.close()


def close_network(ctx) -> list[str]:
    """Refuse every request that leaves the app's server (the page must work offline).

    Returns the list the refused urls are appended to.
    """
    refused: list[str] = []

    def route(r):
        url = r.request.url
        if url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
            return r.continue_()
        refused.append(url)
        return r.abort()

    ctx.route("**/*", route)
    return refused


SETTLE_JS = """([quiet, longest]) => new Promise((resolve) => {
  let timer = null;
  const done = () => { observer.disconnect(); clearTimeout(timer); clearTimeout(cap); resolve(true); };
  const observer = new MutationObserver(() => { clearTimeout(timer); timer = setTimeout(done, quiet); });
  observer.observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
  timer = setTimeout(done, quiet);
  const cap = setTimeout(done, longest);
})"""


def settle(page, quiet_ms: int = 700, longest_ms: int = 20_000) -> None:
    """Wait until the page's DOM has not changed for ``quiet_ms`` (at most ``longest_ms``).

    Solara sends a page's changes after a run in several messages; a click or scroll in
    between can land on an element that is replaced a moment later (three clean-clone runs
    each lost one browser test that way). Tests call ``page.settle()`` before acting on
    freshly computed results.
    """
    page.evaluate(SETTLE_JS, [quiet_ms, longest_ms])


@pytest.fixture()
def open_page(chromium, app_server):
    """Open a path of the app in a fresh browser context (a new session), with the network
    closed beyond the app's server; closed after the test. ``viewport`` picks the screen size."""
    contexts = []

    def opener(path: str, ready: str, viewport: dict | None = None):
        ctx = chromium.new_context(viewport=viewport or VIEWPORT, accept_downloads=True)
        refused = close_network(ctx)
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(60_000)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(app_server + path)
        page.wait_for_selector(ready, timeout=90_000)
        page.js_errors = errors  # type: ignore[attr-defined]
        page.refused = refused  # type: ignore[attr-defined]
        page.settle = lambda quiet_ms=700: settle(page, quiet_ms)  # type: ignore[attr-defined]
        return page

    yield opener
    for ctx in contexts:
        ctx.close()
