"""Component tests of the app's pages with Solara's testing tools (no browser):
render a page, click its buttons, and check what it shows changed."""

from __future__ import annotations

import time

import ipyvuetify as v
import ipywidgets as W
import pytest
import solara

from civsim.app.charts import PlotlyWidget
from civsim.app.page_compare import Compare
from civsim.app.page_explore import Explore
from civsim.app.page_workshop import Workshop
from civsim.app.pages import Guard


class Page:
    """A rendered page and ways to find its widgets by CSS class (as the browser tests do)."""

    def __init__(self, element):
        # the pages put controls in the Sidebar/AppBar portals: AppLayout must wrap them
        self.box, self.rc = solara.render(solara.AppLayout(children=[element]), handle_error=False)

    def widgets(self):
        seen: set[int] = set()
        stack = [self.box]
        while stack:
            w = stack.pop()
            if id(w) in seen:
                continue
            seen.add(id(w))
            yield w
            for name in ("children", "v_slots"):
                items = getattr(w, name, None)
                if not isinstance(items, (list, tuple)):
                    continue
                for x in items:
                    if isinstance(x, dict):
                        x = x.get("children")
                    for y in x if isinstance(x, list) else [x]:
                        if isinstance(y, W.Widget):
                            stack.append(y)

    def all(self, css: str, cls=W.Widget) -> list:
        return [
            w
            for w in self.widgets()
            if isinstance(w, cls) and css in str(getattr(w, "class_", "") or "").split()
        ]

    def one(self, css: str, cls=W.Widget):
        found = self.all(css, cls)
        assert len(found) == 1, f"{len(found)} widgets with class {css!r}"
        return found[0]

    def inside(self, css: str, cls):
        """The single widget of type ``cls`` inside the element with class ``css``."""
        sub = Page.__new__(Page)
        sub.box = self.one(css)
        found = [w for w in sub.widgets() if isinstance(w, cls)]
        assert len(found) == 1, f"{len(found)} {cls.__name__} inside {css!r}"
        return found[0]

    def stat(self, name: str) -> str:
        return self.rc.find(meta_ref=f"stat-{name}").widget.children[0]

    def click(self, css: str) -> None:
        self.one(css, v.Btn).click()

    def html(self) -> str:
        """Every raw HTML/SVG string on the page (charts, maps, story)."""
        return "\n".join(
            w.unsafe_innerHTML
            for w in self.widgets()
            if isinstance(getattr(w, "unsafe_innerHTML", None), str)
        )

    def figures(self) -> dict[str, dict]:
        """The plotly figures on the page, by chart (the class ``civsim-plot-<ref>`` around each)."""
        out = {}
        for w in self.widgets():
            for ref in str(getattr(w, "class_", "") or "").split():
                if ref.startswith("civsim-plot-"):
                    sub = Page.__new__(Page)
                    sub.box = w
                    found = [x for x in sub.widgets() if isinstance(x, PlotlyWidget)]
                    if found:
                        out[ref.removeprefix("civsim-plot-")] = found[0].figure
        return out

    def text_of(self, css: str) -> str:
        return " ".join(str(c) for c in self.one(css).children)


def wait_until(check, timeout: float = 30.0):
    start = time.time()
    while time.time() - start < timeout:
        if check():
            return
        time.sleep(0.05)
    raise TimeoutError("condition not met")


def test_explore_step_and_year_change_the_numbers_shown():
    page = Page(Explore())
    assert page.stat("month") == "month 0"
    before = page.stat("outcome")
    page.click("civsim-step")
    assert page.stat("month") == "month 1"
    page.click("civsim-year")
    assert page.stat("month") == "month 13"
    assert page.stat("outcome") != before
    svg = page.html()
    assert 'class="civsim-map"' in svg and 'class="civsim-graph"' in svg
    figs = page.figures()
    assert set(figs) == {"domain", "group", "engagement", "budget"}
    assert len(figs["domain"]["data"]) >= 9 and len(figs["domain"]["data"][0]["x"]) == 14


def test_explore_has_a_control_with_help_for_every_parameter():
    page = Page(Explore())
    from civsim.app.schema_ui import grouped_params

    for ps in grouped_params().values():
        for p in ps:
            box = page.one(f"civsim-param-{p.name}")
            assert box is not None
    assert len(page.all("civsim-strand")) == len(grouped_params())


def test_explore_parameter_at_start_applies_and_later_waits_for_reset():
    page = Page(Explore())
    budget0 = page.stat("budget")
    page.inside("civsim-param-council_budget", v.Slider).v_model = 2.0  # what the browser sends
    assert page.stat("budget") == "2.00" != budget0  # month 0: the run is rebuilt at once
    labels = [str(w.children[0]) for w in page.all("civsim-param-label")]
    assert "Council budget: 2.0 per capita/yr" in labels  # the control shows its new value
    page.click("civsim-step")
    page.inside("civsim-param-council_budget", v.Slider).v_model = 3.0
    assert page.stat("budget") == "2.00"  # mid-run: unchanged ...
    assert page.all("civsim-pending")  # ... and the user is told why
    page.click("civsim-reset")
    assert page.stat("month") == "month 0" and page.stat("budget") == "3.00"
    assert not page.all("civsim-pending")


def test_explore_bad_parameter_combination_is_one_line_not_a_traceback():
    page = Page(Explore())
    page.inside("civsim-param-voice_weight", v.Slider).v_model = 0.9
    page.inside("civsim-param-need_weight", v.Slider).v_model = 0.9
    message = page.text_of("civsim-error")
    assert "their sum must be at most 1" in message and "Traceback" not in message


def test_explore_run_plays_in_the_background_until_paused():
    page = Page(Explore())
    page.click("civsim-run")
    wait_until(lambda: page.stat("month") not in ("month 0", "month 1", "month 2"))
    page.click("civsim-run")  # now the Pause button
    time.sleep(1.0)  # a month being computed when Pause was pressed still finishes
    stopped = page.stat("month")
    time.sleep(0.8)
    assert page.stat("month") == stopped
    assert page.one("civsim-run", v.Btn).children[-1] == "Run"


def test_workshop_interventions_show_on_plots_and_in_the_story():
    page = Page(Workshop())
    page.click("civsim-year")
    budget = float(page.stat("budget"))
    page.click("civsim-intervene-cut_budget")  # default strength 10%
    assert float(page.stat("budget")) == pytest.approx(0.9 * budget, abs=0.006)
    assert "1. Budget cut 10% (month 12)" in page.text_of("civsim-iv-list")
    # marked on the main chart at once, before the next month
    main = page.figures()["main"]
    assert [a["hovertext"] for a in main["layout"]["annotations"]] == ["1. Budget cut 10% (month 12)"]
    page.click("civsim-intervene-shock_economic")
    page.click("civsim-year")
    blobs = page.html()
    main = page.figures()["main"]
    marks = [s for s in main["layout"]["shapes"] if s["name"] == "intervention"]
    assert len(marks) == 2
    assert main["layout"]["annotations"][1]["hovertext"] == "2. Economic shock (size 0.20) (month 12)"
    assert "In month 12, the council&#x27;s budget was cut by 10%." in blobs  # the story (HTML-escaped)
    assert "In month 12, an economic shock of size 0.20 hit every neighbourhood." in blobs


def test_compare_runs_scenarios_and_shows_the_differences():
    page = Page(Compare())
    page.inside("civsim-citizens", v.TextField).v_model = "200"
    page.inside("civsim-months", v.Slider).v_model = 24
    page.inside("civsim-reps", v.Slider).v_model = 3
    page.click("civsim-compare-run")
    wait_until(lambda: "civsim-diff-table" in page.html(), timeout=120)
    assert "2 scenarios × 3 replicates × 24 months × 200 citizens" in page.text_of("civsim-result-info")
    html = page.html()
    assert "austerity − baseline" in html and "year 5" in html and "n/a (run shorter)" in html
    assert "percentage points" in html and "At month 24: mean of 3 replicates" in html
    bands = page.figures()["bands"]
    assert sum(t.get("fill") == "tonexty" for t in bands["data"]) == 2


def test_compare_rejects_bad_citizens_with_one_line():
    page = Page(Compare())
    page.inside("civsim-citizens", v.TextField).v_model = "5"
    page.click("civsim-compare-run")
    message = page.text_of("civsim-error")
    assert "Citizens per run = '5' is not allowed: expected a whole number from 10 to" in message
    assert "e+" not in message


def test_guard_turns_a_page_failure_into_one_line():
    @solara.component
    def Broken():
        raise RuntimeError("boom\nwith a second line")

    box, rc = solara.render(Guard(children=[Broken()]), handle_error=False)
    text = " ".join(map(str, rc.find(v.Alert).widget.children))
    assert "Something went wrong on this page: boom" in text and "second line" not in text


def test_each_render_builds_its_own_model():
    # two sessions = two renders: stepping one leaves the other alone
    a, b = Page(Explore()), Page(Explore())
    a.click("civsim-year")
    assert a.stat("month") == "month 12" and b.stat("month") == "month 0"


def test_agents_page_steps_and_resets_the_mesa_model():
    from civsim.app.page_agents import Agents

    page = Page(Agents())

    def shown_time() -> str:
        found = [
            c
            for w in page.widgets()
            for c in (getattr(w, "children", None) or [])
            if isinstance(c, str) and c.startswith("Time: ")
        ]
        assert len(found) == 1
        return found[0]

    assert shown_time() == "Time: 0.0"
    page.rc.find(v.Btn, children=["Step"]).widget.click()
    assert shown_time() == "Time: 1.0"
    page.rc.find(v.Btn, children=["Reset"]).widget.click()  # SolaraViz re-creates the model from its inputs
    assert shown_time() == "Time: 0.0"


def test_explore_seed_changed_mid_run_waits_for_reset():
    page = Page(Explore())
    page.click("civsim-year")
    seed_box = page.all("v-text-field", v.TextField)
    box = [w for w in page.widgets() if isinstance(w, v.TextField) and w.label == "Seed"][0]
    box.v_model = "5"
    assert page.stat("month") == "month 12"  # the run goes on with its seed ...
    assert page.all("civsim-pending")  # ... and the page says Reset applies the new one
    page.click("civsim-reset")
    assert page.stat("month") == "month 0" and not page.all("civsim-pending")
    assert seed_box is not None


def test_explore_bad_seed_is_shown_not_ignored():
    page = Page(Explore())
    box = [w for w in page.widgets() if isinstance(w, v.TextField) and w.label == "Seed"][0]
    box.v_model = "abc"
    assert "Seed 'abc' is not allowed" in page.text_of("civsim-seed-error")
    assert box.error


def test_compare_bad_seed_is_refused():
    page = Page(Compare())
    page.inside("civsim-seed", v.TextField).v_model = "abc"
    page.click("civsim-compare-run")
    assert "Seed 'abc' is not allowed" in page.text_of("civsim-error")


def test_compare_rename_keeps_the_preset_shown():
    page = Page(Compare())
    name_box = [w for w in page.widgets() if isinstance(w, v.TextField) and w.label == "Name of scenario B"][
        0
    ]
    name_box.v_model = "my cuts"
    select = [
        w for w in page.widgets() if isinstance(w, v.Select) and w.label == "Scenario B starts from preset"
    ][0]
    assert select.v_model == "austerity"


def test_compare_overrides_line_keeps_its_place():
    # the line is there (empty) even with no overrides, so the upload below it keeps its message
    page = Page(Compare())
    lines = [" ".join(map(str, w.children)).strip() for w in page.all("civsim-overrides")]
    assert sorted(lines)[0] == "" and "budget_path" in sorted(lines)[1], lines  # baseline: none


def test_compare_rerun_does_not_start_at_a_stale_100_percent():
    page = Page(Compare())
    page.inside("civsim-citizens", v.TextField).v_model = "100"
    page.inside("civsim-months", v.Slider).v_model = 12
    page.inside("civsim-reps", v.Slider).v_model = 2
    page.click("civsim-compare-run")
    wait_until(lambda: page.all("civsim-result-info"), timeout=120)
    wait_until(lambda: page.all("civsim-compare-run"), timeout=30)
    # the second run is long, so a 100% seen now can only be the last run's
    page.inside("civsim-citizens", v.TextField).v_model = "5000"
    page.inside("civsim-months", v.Slider).v_model = 240
    page.inside("civsim-reps", v.Slider).v_model = 64
    page.click("civsim-compare-run")
    wait_until(lambda: page.all("civsim-cancel") and page.all("civsim-progress"), timeout=30)
    assert page.text_of("civsim-progress") != "Running… 100%"
    page.click("civsim-cancel")
    wait_until(lambda: page.all("civsim-compare-run"), timeout=120)


def test_compare_calibrated_switch_names_its_posterior_and_changes_the_runs():
    page = Page(Compare())
    page.inside("civsim-citizens", v.TextField).v_model = "100"
    page.inside("civsim-months", v.Slider).v_model = 12
    page.inside("civsim-reps", v.Slider).v_model = 2
    switch = page.inside("civsim-calibrated", v.Switch)
    assert "volunteering" in switch.label
    switch.v_model = True
    page.click("civsim-compare-run")
    wait_until(lambda: page.all("civsim-result-info"), timeout=120)
    info = page.text_of("civsim-result-info")
    assert "calibrated posterior 'volunteering'" in info and "sha256" in info, info
    assert "--posterior volunteering" in page.text_of("civsim-as-run") or any(
        "--posterior volunteering" in str(w.children) for w in page.all("civsim-as-run")
    )
