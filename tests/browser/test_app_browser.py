"""End-to-end tests in headless Chromium: the real server, each page, real clicks.

Each test asserts that what the page shows changed after the user acted.
Small models keep them quick (the workshop uses 1,500 citizens, the
comparison 300 per run).
"""

from __future__ import annotations

import re
import time

import pytest

from civsim.scenario import load_scenario

pytestmark = pytest.mark.browser

STAT = ".civsim-stat-{} .civsim-stat-value"


def stat(page, name: str) -> str:
    return page.inner_text(STAT.format(name)).strip()


def month(page) -> int:
    return int(stat(page, "month").split()[-1])


def wait_month(page, at_least: int, timeout: float = 120_000) -> None:
    page.wait_for_function(
        f"() => {{ const e = document.querySelector('{STAT.format('month')}'); "
        f"return e && parseInt(e.innerText.trim().split(' ').pop()) >= {at_least}; }}",
        timeout=timeout,
    )


def wait_text_change(page, selector: str, old: str, timeout: float = 30_000) -> str:
    page.wait_for_function(
        "([sel, old]) => { const e = document.querySelector(sel); return e && e.innerText.trim() !== old; }",
        arg=[selector, old],
        timeout=timeout,
    )
    return page.inner_text(selector).strip()


def shoot(page, screenshot_dir, name: str, height: int = 1000) -> None:
    page.set_viewport_size({"width": 1400, "height": height})
    time.sleep(0.5)
    page.screenshot(path=str(screenshot_dir / f"{name}.png"))


def no_traceback(page) -> None:
    body = page.inner_text("body")
    assert "Traceback" not in body and 'File "' not in body


def test_explore_slider_run_and_pause(open_page, screenshot_dir):
    page = open_page("/", ".civsim-stat-month")
    assert stat(page, "month") == "month 0"
    outcome0 = stat(page, "outcome")

    # move a slider: open the "Working inclusively" strand, push outreach up with the keyboard
    page.click(".civsim-strand-inclusion .v-expansion-panel-header")
    label = ".civsim-param-outreach .civsim-param-label"
    page.wait_for_selector(label)
    assert page.inner_text(label).strip() == "Outreach: 0.00 share"
    thumb = page.locator(".civsim-param-outreach [role=slider]")
    for i in range(1, 6):  # key by key, as a person would: each step goes to the server and back
        thumb.press("ArrowRight")
        page.wait_for_function(
            f"() => document.querySelector('{label}').innerText.trim() === 'Outreach: 0.0{i} share'"
        )
    assert "(1 changed)" in page.inner_text(".civsim-strand-inclusion .v-expansion-panel-header")

    # run, let it play, pause: the month and the outcome index move, then stop
    page.click(".civsim-run")
    wait_month(page, 12)
    page.click(".civsim-run")  # Pause
    page.wait_for_selector(".civsim-run:has-text('Run')")
    time.sleep(1.0)  # a month already being computed when Pause was pressed is still shown
    stopped = month(page)
    time.sleep(1.5)
    assert month(page) == stopped >= 12
    assert stat(page, "outcome") != outcome0
    # live views: a line per series, one hexagon per neighbourhood, the actor graph
    assert page.locator(".civsim-plot-domain .scatterlayer .trace").count() >= 9
    assert page.locator(".civsim-map .civsim-hood").count() == 6
    networks = int(page.get_attribute(".civsim-graph", "data-networks"))
    assert networks > 0 and page.locator(".civsim-graph .civsim-node-network").count() == networks
    no_traceback(page)
    assert not page.js_errors
    page.evaluate(
        "document.querySelector('.civsim-strand-inclusion .v-expansion-panel-header').scrollIntoView()"
    )
    shoot(page, screenshot_dir, "explore", 1500)


def test_upload_bad_then_good_scenario(open_page, screenshot_dir):
    page = open_page("/", ".civsim-stat-month")
    chooser = ".civsim-upload input[type=file]"
    page.set_input_files(
        chooser,
        files=[{"name": "bad.toml", "mimeType": "text/plain", "buffer": b"[params]\nausterity_rate = 5\n"}],
    )
    err = page.wait_for_selector(".civsim-upload-error")
    text = err.inner_text().strip()
    assert "bad.toml: [params] austerity_rate = 5 is not allowed: expected a number in [-0.5, 0.5]" in text
    assert "\n" not in text.split("bad.toml", 1)[1]
    no_traceback(page)
    shoot(page, screenshot_dir, "upload-error")

    good = (
        b'description = "My town: austerity plus outreach."\n'
        b'extends = "austerity"\n'
        b"[params]\noutreach = 0.4\n"
    )
    page.set_input_files(chooser, files=[{"name": "my_town.toml", "mimeType": "text/plain", "buffer": good}])
    page.wait_for_selector(".civsim-upload-ok")
    assert "My town: austerity plus outreach." in page.inner_text(".civsim-upload-ok")
    page.wait_for_function("() => document.querySelector('.civsim-preset').innerText.includes('my_town')")
    # the uploaded parameters are now the run's: outreach shows 0.40 in its strand
    page.click(".civsim-strand-inclusion .v-expansion-panel-header")
    page.wait_for_function(
        "() => { const e = document.querySelector('.civsim-param-outreach .civsim-param-label'); "
        "return e && e.innerText.trim() === 'Outreach: 0.40 share'; }"
    )


def test_workshop_live_interventions(open_page, screenshot_dir):
    page = open_page("/workshop", ".civsim-workshop .civsim-stat-month")
    page.click(".civsim-year")
    wait_month(page, 12)
    budget = float(stat(page, "budget"))
    page.click(".civsim-intervene-cut_budget")
    new_budget = float(wait_text_change(page, STAT.format("budget"), f"{budget:.2f}"))
    assert new_budget == pytest.approx(0.9 * budget, abs=0.006)
    page.wait_for_selector(".civsim-iv-list")
    assert "1. Budget cut 10% (month 12)" in page.inner_text(".civsim-iv-list")

    # intervene while the model is playing
    page.click(".civsim-run")
    wait_month(page, 15)
    page.click(".civsim-intervene-shock_economic")
    page.wait_for_function(
        "() => document.querySelector('.civsim-iv-list').innerText.includes('2. Economic shock')"
    )
    wait_month(page, 26)
    page.click(".civsim-run")  # Pause
    page.wait_for_selector(".civsim-run:has-text('Play')")
    time.sleep(1.0)
    shock_month = int(
        re.search(
            r"2\. Economic shock \(size 0\.20\) \(month (\d+)\)", page.inner_text(".civsim-iv-list")
        ).group(1)
    )
    assert shock_month >= 15

    # both are marked on the main chart, numbered
    page.wait_for_function("() => document.querySelectorAll('.civsim-plot-main .annotation').length === 2")
    assert page.locator(".civsim-plot-main .annotation-text", has_text="2").count() == 1
    shoot(page, screenshot_dir, "workshop", 1700)

    # the story names them, with the run's own numbers
    page.click("text=The story, year by year")
    page.wait_for_selector(".civsim-year")
    story = page.inner_text(".civsim-story")
    assert "In month 12, the council's budget was cut by 10%." in story
    assert f"In month {shock_month}, an economic shock of size 0.20 hit every neighbourhood." in story
    assert re.search(
        r"Year 2: outcomes (improved|fell|held steady) — the "
        r"valued-outcome index went from 0\.\d{3} to 0\.\d{3}",
        story,
    )

    # the system of challenges: a causal-loop diagram with signed links and loops
    page.click("text=System of challenges")
    page.wait_for_selector(".civsim-cld-challenges svg")
    assert int(page.get_attribute(".civsim-cld-challenges svg", "data-links")) > 5
    assert page.locator(".civsim-cld-challenges [data-sign='−']").count() >= 1
    page.locator("text=3 · See what happened, and why").scroll_into_view_if_needed()
    page.evaluate("document.querySelector('.civsim-cld-challenges').scrollIntoView()")
    shoot(page, screenshot_dir, "workshop-loops", 1300)
    no_traceback(page)


def test_compare_runs_and_downloads(open_page, screenshot_dir, tmp_path):
    page = open_page("/compare", ".civsim-compare-run")
    page.fill(".civsim-citizens input", "300")
    page.click(".civsim-compare-run")
    page.wait_for_selector("table.civsim-diff-table", timeout=120_000)
    page.settle()  # type: ignore[attr-defined]
    header = page.inner_text("table.civsim-diff-table")
    assert "year 5" in header and "year 10" in header
    rows = page.locator("table.civsim-diff-table tbody tr")
    assert rows.count() >= 8
    assert re.search(r"[+-]\d\.\d{3} \[[+-]\d\.\d{3}, [+-]\d\.\d{3}\]", rows.first.inner_text())
    info = page.inner_text(".civsim-result-info")
    seconds = float(re.search(r"computed in ([\d.]+) s", info).group(1))
    assert "2 scenarios × 16 replicates × 120 months × 300 citizens" in info
    # plotly.js draws the bands after the results table arrives: wait for its traces, then count
    page.wait_for_function(
        "() => document.querySelectorAll('.civsim-plot-bands .scatterlayer .trace').length >= 6",
        timeout=30_000,
    )
    assert page.locator(".civsim-plot-bands .scatterlayer .trace").count() == 6  # 2 x (lo, hi, mean)
    shoot(page, screenshot_dir, "compare", 1500)

    with page.expect_download() as dl:
        page.click("text=Download data (CSV)")
    csv_path = tmp_path / "data.csv"
    dl.value.save_as(csv_path)
    lines = csv_path.read_text().splitlines()
    assert lines[0].startswith("scenario,rep,step,outcome_index")
    assert len(lines) == 1 + 2 * 16 * 121

    with page.expect_download() as dl:
        page.locator(".civsim-slot-1").locator("text=Download scenario (TOML)").click()
    toml_path = tmp_path / dl.value.suggested_filename
    dl.value.save_as(toml_path)
    back = load_scenario(str(toml_path))
    assert back.params == {**load_scenario("austerity").params, "n_citizens": 300}
    assert (back.seed, back.steps, back.replicates) == (0, 120, 16)
    assert seconds < 60


def test_two_sessions_do_not_share_state(open_page):
    a = open_page("/", ".civsim-stat-month")
    b = open_page("/", ".civsim-stat-month")
    a.click(".civsim-year")
    wait_month(a, 12)
    assert month(b) == 0
    b.click(".civsim-step")
    wait_month(b, 1)
    time.sleep(0.5)
    assert month(a) == 12 and month(b) == 1


def test_agents_page_uses_mesa_solaraviz(open_page, screenshot_dir):
    page = open_page("/agents", ".civsim-graph-view svg")
    assert page.locator("text=Model Parameters").count() >= 1
    time_text = page.locator("text=/Time: /").first
    before = time_text.inner_text()
    page.locator("button:has-text('Step')").first.click()
    page.wait_for_function(
        "(old) => [...document.querySelectorAll('*')].some(e => e.children.length "
        "=== 0 && /^Time: /.test(e.innerText) && e.innerText !== old)",
        arg=before,
    )
    shoot(page, screenshot_dir, "agents", 1200)
