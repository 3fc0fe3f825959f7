"""The Strategy page in headless Chromium: run strategies, read robustness and failures, download."""

from __future__ import annotations

import re
import tomllib

import pytest

pytestmark = pytest.mark.browser


def test_strategy_page_runs_and_downloads(open_page, screenshot_dir, tmp_path):
    page = open_page("/strategy", ".civsim-strategy-run")
    assert page.locator(".civsim-strategy").count() == 4
    page.fill(".civsim-lab-futures input", "abc")
    page.click(".civsim-strategy-run")
    err = page.wait_for_selector(".civsim-error", timeout=30_000).inner_text()
    assert "futures: 'abc' is not allowed" in err
    page.fill(".civsim-lab-futures input", "16")
    page.fill(".civsim-lab-months input", "24")
    page.fill(".civsim-lab-citizens input", "200")
    page.click(".civsim-strategy-run")
    page.wait_for_selector(".civsim-robust-table", timeout=240_000)
    page.settle()  # type: ignore[attr-defined]
    rows = page.locator(".civsim-robust-table tbody tr")
    assert rows.count() == 4
    assert "max regret" in page.inner_text(".civsim-robust-table")
    assert re.search(r"\d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\]", rows.first.inner_text())
    info = page.inner_text(".civsim-result-info")
    assert "4 strategies × 16 futures × 1 replicate(s) × 24 months × 200 citizens" in info
    seconds = float(re.search(r"computed in ([\d.]+) s", info).group(1))
    page.wait_for_selector(".civsim-strategy-run", timeout=60_000)  # the run has finished
    page.settle()  # type: ignore[attr-defined]
    boxes = page.inner_text(".civsim-boxes")
    assert "status_quo" in boxes or "futures" in boxes
    page.screenshot(path=str(screenshot_dir / "strategy.png"))
    page.locator(".civsim-robust").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "strategy-results.png"))

    with page.expect_download() as dl:
        page.click("text=Download experiment (TOML)")
    path = tmp_path / "strategy_lab.toml"
    dl.value.save_as(path)
    doc = tomllib.loads(path.read_text())
    assert list(doc["strategies"])[:2] == ["status_quo", "convening"] and len(doc["strategies"]) == 4
    assert doc["design"]["samples"] == 16 and doc["params"]["n_citizens"] == 200

    with page.expect_download() as dl:
        page.click("text=Download data (CSV)")
    csv = tmp_path / "d.csv"
    dl.value.save_as(csv)
    lines = csv.read_text().splitlines()
    assert lines[0].startswith("strategy,future,") and len(lines) == 1 + 4 * 16
    assert seconds < 240
    assert not page.js_errors  # type: ignore[attr-defined]
