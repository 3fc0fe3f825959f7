# ruff: noqa: E501  (HTML, labels and sentences read better unbroken)
"""Scale measurement for workshop rooms (issue 14): many phones, several rooms, one server.

Drives real headless Chromium pages through Playwright, one browser context
per participant (each its own Solara session, as separate phones are):
one room with ``--big`` participants (its six seats decide, the rest watch)
plus ``--rooms - 1`` more rooms with six deciding participants each, all
at once. Each page records, with a MutationObserver, the moment the story of
year N appears; the room stamps each story with the moment the year (and its
story) was done. The difference is the update latency this prints: figures,
not assertions.

    python scripts/room_scale.py --port 8782 [--big 40] [--rooms 4] [--years 3]

Starts the app server on 127.0.0.1:PORT itself (stopped at the end), or uses
``--url`` if one is running.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEATS = ["council", "agency-1", "agency-2", "network-1", "network-2", "panel"]
OBSERVE = """
window.__seen = {};
new MutationObserver(() => {
  document.querySelectorAll('.civsim-story-year').forEach(e => {
    const y = e.dataset.year;
    if (!(y in window.__seen)) window.__seen[y] = {t: Date.now(), ran: Number(e.dataset.ranAt)};
  });
}).observe(document, {subtree: true, childList: true});
window.__msgs = [];  // [arrival ms, bytes] of every message the server sent this page
const WS = window.WebSocket;
window.WebSocket = function (...a) {
  const ws = new WS(...a);
  ws.addEventListener('message', ev => {
    const d = ev.data;
    window.__msgs.push([Date.now(), typeof d === 'string' ? d.length : (d.byteLength || d.size || 0)]);
  });
  return ws;
};
window.WebSocket.prototype = WS.prototype;
Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
"""
ARRIVALS = """(y) => {
  const s = window.__seen[y], m = window.__msgs.filter(x => x[0] >= s.ran - 50 && x[0] <= s.t);
  return {first: m.length ? m[0][0] : s.t, last: m.length ? m[m.length - 1][0] : s.t, n: m.length,
          bytes: m.reduce((a, x) => a + x[1], 0)};
}"""


TIMING = Path(os.environ.get("TMPDIR", "/tmp")) / f"civsim-room-timing-{os.getpid()}.log"


def cpu_seconds(root: int | None = None) -> float:
    """CPU seconds (user + system) used so far by ``root`` and its descendants, or by every Chromium process."""
    tick = os.sysconf("SC_CLK_TCK")
    procs = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            comm, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()
            procs[int(d.name)] = (
                comm,
                int(rest[1]),
                int(rest[11]) + int(rest[12]),
            )  # name, parent, utime + stime
    if root is None:
        return sum(t for comm, _, t in procs.values() if "chrom" in comm) / tick
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, (_, ppid, _) in procs.items() if ppid in tree} - tree
        tree |= more
        grew = bool(more)
    return sum(procs[pid][2] for pid in tree if pid in procs) / tick


SERVER: list[int] = []  # the server's process id, when this script started it


def start_server(port: int) -> subprocess.Popen:
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False", "PYTHONPATH": str(ROOT),
           "CIVSIM_ROOM_TIMING": str(TIMING)}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "civsim.app.server", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    SERVER.append(proc.pid)
    for _ in range(120):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/room", timeout=5):
                return proc
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise SystemExit("the server did not start")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=8782)
    ap.add_argument("--url", default="")
    ap.add_argument("--big", type=int, default=40, help="participants in the big room (6 seats + observers)")
    ap.add_argument("--rooms", type=int, default=4, help="rooms at once, the big one included")
    ap.add_argument("--years", type=int, default=3)
    args = ap.parse_args()
    proc = None if args.url else start_server(args.port)
    url = args.url or f"http://127.0.0.1:{args.port}"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=os.environ.get("CIVSIM_CHROMIUM", "/usr/bin/chromium"),
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                      "--disable-renderer-backgrounding", "--disable-background-timer-throttling"],
                headless=True,
            )  # fmt: skip
            run(browser, url, args)
            browser.close()
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)


def page_for(browser, url: str, ready: str, viewport=None):
    ctx = browser.new_context(viewport=viewport or {"width": 420, "height": 900})
    ctx.add_init_script(OBSERVE)
    page = ctx.new_page()
    page.set_default_timeout(180_000)
    page.goto(url)
    page.wait_for_selector(ready, timeout=180_000)
    return page


def run(browser, url: str, args) -> None:
    print(f"load average before: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    t0 = time.time()
    hosts, codes = [], []
    for _ in range(args.rooms):
        host = page_for(browser, url + "/room", ".civsim-open-room", {"width": 1400, "height": 1000})
        host.click(".civsim-room-agencies")
        host.click(".v-menu__content.menuable__content__active .v-list-item:has-text('2') >> nth=0")
        host.click(".civsim-room-rounds")
        host.click(
            f".v-menu__content.menuable__content__active .v-list-item:has-text('{args.years}') >> nth=0"
        )
        host.click(".civsim-open-room")
        host.wait_for_selector(".civsim-room-code")
        hosts.append(host)
        codes.append(host.inner_text(".civsim-room-code").strip())
    deciders: list[list] = [[] for _ in codes]
    watchers: list = []
    joins = []
    for r, code in enumerate(codes):
        n = args.big if r == 0 else len(SEATS)
        for i in range(n):
            t = time.time()
            page = page_for(browser, f"{url}/join?code={code}", ".civsim-name-input input")
            page.fill(".civsim-name-input input", f"p{r}-{i}")
            seat = SEATS[i] if i < len(SEATS) else None
            page.click(f".civsim-take-{seat}" if seat else ".civsim-take-observer")
            page.wait_for_selector(".civsim-my-seat")
            joins.append(time.time() - t)
            (deciders[r] if seat else watchers).append(page)
    everyone = [p for d in deciders for p in d] + watchers
    print(f"setup: {args.rooms} rooms, {len(everyone)} participant pages (big room {args.big}), "
          f"{len(hosts)} host pages in {time.time() - t0:.0f} s; join (page load to seat view) "
          f"median {statistics.median(joins):.2f} s, max {max(joins):.2f} s", flush=True)  # fmt: skip
    if SERVER:  # what the pages cost while nothing happens (the browsers share the server's cores here)
        idle0 = (cpu_seconds(SERVER[0]), cpu_seconds(), time.time())
        time.sleep(5)
        idle1 = (cpu_seconds(SERVER[0]), cpu_seconds(), time.time())
        print(f"idle ({idle1[2] - idle0[2]:.1f} s, nothing happening): CPU server {idle1[0] - idle0[0]:.2f} s, "
              f"browsers {idle1[1] - idle0[1]:.2f} s", flush=True)  # fmt: skip
    for year in range(1, args.years + 1):
        t = time.time()
        for i in range(len(SEATS)):  # rooms interleaved, so their years run at about the same time
            for d in deciders:
                page = d[i]
                page.wait_for_selector(".civsim-decide")
                page.locator(".civsim-lever [role=slider]").first.press("ArrowRight")
                page.click(".civsim-decide")
        decide_s = time.time() - t
        cpu0 = (cpu_seconds(SERVER[0]) if SERVER else 0.0, cpu_seconds(), time.time())
        pages = everyone + hosts
        for p in pages:
            # polled every 200 ms, not every animation frame: the time shown is stamped by the page's own
            # observer, and frame-by-frame polling would add browser work to the cores the server uses
            p.wait_for_function(f"() => window.__seen && window.__seen['{year}']", polling=200, timeout=180_000)
        cpu1 = (cpu_seconds(SERVER[0]) if SERVER else 0.0, cpu_seconds(), time.time())
        lat = []
        ran = []
        for p in pages:
            s = p.evaluate(f"() => window.__seen['{year}']")
            lat.append((s["t"] - s["ran"]) / 1000.0)
            ran.append(s["ran"] / 1000.0)
        lat.sort()
        big = [(p.evaluate(f"() => window.__seen['{year}']")) for p in deciders[0] + watchers]
        big_lat = sorted((s["t"] - s["ran"]) / 1000.0 for s in big)
        host_lat = max(
            (s["t"] - s["ran"]) / 1000.0
            for s in (h.evaluate(f"() => window.__seen['{year}']") for h in hosts)
        )
        p95 = lat[min(len(lat) - 1, int(round(0.95 * (len(lat) - 1))))]
        print(
            f"year {year}: {len(pages)} pages; {len(SEATS) * len(deciders)} decisions sent in {decide_s:.1f} s; "
            f"years of the {len(deciders)} rooms done within {max(ran) - min(ran):.1f} s of each other; "
            f"update latency (year done -> shown) median {statistics.median(lat):.2f} s, p95 {p95:.2f} s, "
            f"max {lat[-1]:.2f} s; big room ({len(big_lat)} phones) max {big_lat[-1]:.2f} s; hosts max {host_lat:.2f} s",
            flush=True,
        )
        arr = [(p.evaluate(f"() => window.__seen['{year}']"), p.evaluate(ARRIVALS, str(year))) for p in pages]
        first = sorted((a["first"] - s["ran"]) / 1000.0 for s, a in arr)
        last = sorted((a["last"] - s["ran"]) / 1000.0 for s, a in arr)
        draw = sorted((s["t"] - a["last"]) / 1000.0 for s, a in arr)
        msgs = sorted(a["n"] for _, a in arr)
        kb = sorted(a["bytes"] / 1000.0 for _, a in arr)
        print(
            f"  browser side, year {year}: first message arrived (after the year done) median "
            f"{statistics.median(first):.2f} s, max {first[-1]:.2f} s; last message before the story showed median "
            f"{statistics.median(last):.2f} s, max {last[-1]:.2f} s; story shown after that last message median "
            f"{statistics.median(draw) * 1000:.0f} ms, max {draw[-1] * 1000:.0f} ms; messages per page median "
            f"{statistics.median(msgs):.0f} (max {msgs[-1]}), {statistics.median(kb):.1f} kB (max {kb[-1]:.1f} kB)",
            flush=True,
        )
        if SERVER:  # who used the two cores from the last decision sent until every page showed the year
            print(
                f"  CPU from the last decision to the last page updated ({cpu1[2] - cpu0[2]:.1f} s): server "
                f"{cpu1[0] - cpu0[0]:.1f} s, browsers {cpu1[1] - cpu0[1]:.1f} s; load average "
                f"{os.getloadavg()[0]:.1f}",
                flush=True,
            )
        gc_log = Path(f"{TIMING}.gc")
        if gc_log.exists():  # full collections stop every thread: did one fall in this year's update?
            lo, hi = min(ran), max(s["t"] / 1000.0 for s, _ in arr)
            full = [float(r.split()[2]) for r in gc_log.read_text().splitlines()
                    if r.split()[1] == "2" and lo <= float(r.split()[0]) <= hi]  # fmt: skip
            print(f"  full garbage collections in the server during the update: {len(full)} ({sum(full):.2f} s)",
                  flush=True)  # fmt: skip
        if TIMING.exists():  # the server's share: year done -> this tab's page re-rendered and sent
            rows = [ln.split() for ln in TIMING.read_text().splitlines()]
            rows = [r for r in rows if int(r[1]) == year and float(r[2]) > 0]
            if rows:
                done = sorted(float(r[4]) - float(r[2]) for r in rows)
                render = sorted(float(r[4]) - float(r[3]) for r in rows)
                p95s = done[min(len(done) - 1, int(round(0.95 * (len(done) - 1))))]
                print(
                    f"  server side, year {year}: {len(rows)} page updates; all re-rendered within "
                    f"{done[-1]:.2f} s of the year being done (median {statistics.median(done):.2f} s, p95 {p95s:.2f} s); "
                    f"re-render per page median {statistics.median(render) * 1000:.0f} ms, max {render[-1] * 1000:.0f} ms",
                    flush=True,
                )


if __name__ == "__main__":
    main()
