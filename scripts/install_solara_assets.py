#!/usr/bin/env python3
"""Install Solara's browser assets into the venv, so the app works offline.

Solara's server does not ship the JavaScript/CSS that the browser needs: on
first use it downloads them from a CDN (jsdelivr, which serves npm packages
file by file) and caches them under ``<venv>/share/solara/cdn/``
(``solara.server.settings.assets.proxy_cache_dir``), at the same relative path
as in the CDN url, e.g.::

    <cache>/@widgetti/solara-vuetify-app@10.1.1/dist/solara-vuetify-app8.min.js
    <cache>/requirejs@2.3.6/require.js

With no internet the page stays blank. The same files are in the npm
packages, so we ``npm pack`` each package and unpack it (the tarball's
``package/`` folder) into ``<cache>/<name>@<version>/``. Solara then serves
them from its cache and never tries the CDN.

The versions are read from the installed Solara's own source (its page
template and Vue components), so a Solara upgrade asks for the right ones;
the versions in FALLBACK are used only if a package is not found there.
Some urls name a semver range (``vega@5/build/vega.min.js``): the folder is
then named by the range, as the url has it, and holds what npm resolves the
range to today. Every file the source names must then exist; a ``.min.js``
that the package lacks (the CDN minifies on the fly) is copied from the
``.js`` beside it.

Two more files go in the same way. plotly.js (the app's charts, see
``civsim/app/charts.py``) is copied from the ``plotly`` Python package into
``<cache>/plotly.js-dist-min@<version>/plotly.min.js``, the path the CDN
proxy would fetch, so the charts need no download at all. axe-core (the
accessibility checker the browser tests run) is ``npm pack``-ed into
``<venv>/share/civsim/axe-core/`` (skip with ``--no-axe``).

Idempotent: a package whose folder holds the ``.npm-pack-complete`` stamp is
skipped. Run it with the venv's python::

    .venv/bin/python scripts/install_solara_assets.py [--cache-dir DIR] [--list]

Without ``npm`` on PATH it warns and exits 0 (Solara still works with
internet), unless ``--strict`` is given or ``CI`` is set.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

# Package names Solara (and mesa's SolaraViz) loads through the CDN proxy:
# the Vue 2 and Vue 3 app bundles, font-awesome, requirejs, the grid layout
# used by SolaraViz's draggable grid, KaTeX + Mermaid, which every
# solara.Markdown loads when it mounts, and Vega (solara.FigureAltair: mesa's
# default plot backend). Not included: echarts, codemirror, milkdown (only
# FigureEcharts, SqlCode, MarkdownEditor use them).
FALLBACK = {
    "@widgetti/solara-vuetify-app": "10.1.1",
    "@widgetti/solara-vuetify3-app": "5.2.0",
    "font-awesome": "4.5.0",
    "requirejs": "2.3.6",
    "@widgetti/vue-grid-layout": "2.3.13-alpha.2",
    "katex": "0.16.9",
    "mermaid": "10.8.0",
    "vega": "5",
    "vega-lite": "5",
    "vega-embed": "6",
}

STAMP = ".npm-pack-complete"

# "<name>@<version or major range>/<file path>" inside a url, with an optional @scope/.
_SPEC = re.compile(
    r"(?<![\w.@-])((?:@[a-z0-9][\w.-]*/)?[a-z0-9][\w.-]*)@(\d+(?:\.\d+){0,2}(?:-[0-9A-Za-z.]+)?)/([\w./-]*\w(?![\w./{$-]))?"
)


def log(msg: str) -> None:
    print(f"install_solara_assets: {msg}", flush=True)


def solara_dir() -> Path | None:
    try:
        import solara  # noqa: PLC0415
    except ImportError:
        return None
    return Path(solara.__file__).parent


def default_cache_dir() -> Path:
    """The folder Solara's server reads its CDN cache from (honours SOLARA_ASSETS_PROXY_CACHE_DIR)."""
    try:
        from solara.server import settings  # noqa: PLC0415

        return Path(settings.assets.proxy_cache_dir)
    except Exception as exc:  # solara missing or broken: same default as solara's
        log(f"could not read solara's settings ({exc!r}); using sys.prefix")
        return Path(sys.prefix) / "share" / "solara" / "cdn"


def scan_source(src: Path | None) -> tuple[dict[str, set[str]], set[str]]:
    """Versions of the FALLBACK packages named in solara's source, and the files it names in them."""
    found: dict[str, set[str]] = {}
    files: set[str] = set()
    if src is not None:
        for path in src.rglob("*"):
            if "website" in path.parts or not path.is_file():
                continue
            if path.suffix not in {".py", ".vue", ".j2", ".html"}:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            for name, version, file in _SPEC.findall(text):
                if name in FALLBACK:
                    found.setdefault(name, set()).add(version)
                    if file:
                        files.add(f"{name}@{version}/{file}")
    return found, files


def wanted_specs(src: Path | None, found: dict[str, set[str]]) -> list[tuple[str, str]]:
    """(name, version) pairs to install: versions as the installed solara requests them."""
    specs = []
    for name, fallback in FALLBACK.items():
        versions = found.get(name)
        if not versions:
            if src is not None:
                log(f"{name}: not referenced by the installed solara; using {fallback}")
            versions = {fallback}
        specs.extend((name, v) for v in sorted(versions))
    return specs


def npm_pack(specs: list[str], workdir: Path) -> list[Path]:
    """Download the tarballs of ``specs`` into ``workdir``; return their paths, in order."""
    env = dict(
        os.environ, npm_config_update_notifier="false", npm_config_fund="false", npm_config_audit="false"
    )
    proc = subprocess.run(
        ["npm", "pack", "--json", *specs],
        cwd=workdir,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(
            f"install_solara_assets: 'npm pack {' '.join(specs)}' failed (exit {proc.returncode})"
        )
    info = json.loads(proc.stdout)
    return [workdir / entry["filename"] for entry in info]


def unpack(tarball: Path, target: Path) -> None:
    """Unpack the tarball's ``package/`` folder as ``target`` (merging with what solara may have cached)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".unpack-") as tmp:
        with tarfile.open(tarball) as tar:
            tar.extractall(tmp, filter="data")
        roots = [p for p in Path(tmp).iterdir() if p.is_dir()]
        if len(roots) != 1:  # npm tarballs have one top folder, normally "package/"
            raise SystemExit(f"install_solara_assets: unexpected layout in {tarball.name}: {roots}")
        if target.exists():
            shutil.copytree(roots[0], target, dirs_exist_ok=True)
        else:
            os.replace(roots[0], target)
    (target / STAMP).write_text(tarball.name + "\n")


AXE_VERSION = "4.14.1"
"""axe-core, the accessibility engine of the browser tests (tests/browser/test_app_a11y.py)."""


def install_plotly(cache: Path) -> None:
    """Copy plotly.js from the installed ``plotly`` package into the asset cache."""
    try:
        import importlib.util  # noqa: PLC0415

        spec = importlib.util.find_spec("plotly")
    except ImportError:
        spec = None
    if spec is None or spec.origin is None:
        log("WARNING: the plotly package is not installed: the app's charts will fetch plotly.js online")
        return
    bundle = Path(spec.origin).parent / "package_data" / "plotly.min.js"
    head = bundle.read_text(encoding="utf-8", errors="replace")[:400]
    m = re.search(r"plotly\.js v(\d+\.\d+\.\d+)", head)
    if m is None:
        raise SystemExit(f"install_solara_assets: cannot read the plotly.js version in {bundle}")
    target = cache / f"plotly.js-dist-min@{m.group(1)}" / "plotly.min.js"
    if target.is_file() and target.stat().st_size == bundle.stat().st_size:
        log(f"plotly.js {m.group(1)} already in {target.parent}")
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    shutil.copyfile(bundle, tmp)
    os.replace(tmp, target)
    log(f"installed plotly.js {m.group(1)} (from the plotly package) in {target.parent}")


def axe_dir() -> Path:
    """Where axe-core goes: ``<venv>/share/civsim/axe-core`` (read by the browser tests)."""
    return Path(sys.prefix) / "share" / "civsim" / "axe-core"


def install_axe(strict: bool) -> None:
    """``npm pack axe-core`` into :func:`axe_dir` (skipped when present)."""
    target = axe_dir()
    if (target / STAMP).exists() and (target / "axe.min.js").is_file():
        log(f"axe-core already in {target}")
        return
    if shutil.which("npm") is None:
        msg = "npm not found: the accessibility browser test cannot run (it needs axe-core)"
        if strict:
            raise SystemExit(f"install_solara_assets: {msg}")
        log(f"WARNING: {msg}")
        return
    with tempfile.TemporaryDirectory(prefix="axe-npm-") as tmp:
        (tarball,) = npm_pack([f"axe-core@{AXE_VERSION}"], Path(tmp))
        unpack(tarball, target)
    log(f"installed axe-core@{AXE_VERSION} in {target}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--cache-dir", type=Path, help="default: solara's proxy_cache_dir (<venv>/share/solara/cdn)"
    )
    ap.add_argument("--list", action="store_true", help="print what would be installed, and exit")
    ap.add_argument("--strict", action="store_true", help="fail when npm is missing (default when CI is set)")
    ap.add_argument("--no-axe", action="store_true", help="skip axe-core (the browser tests' a11y check)")
    args = ap.parse_args(argv)
    strict = args.strict or bool(os.environ.get("CI"))

    src = solara_dir()
    if src is None:
        log("solara is not installed in this python; versions from the fallback list")
    cache = (args.cache_dir or default_cache_dir()).resolve()
    found, files = scan_source(src)
    specs = wanted_specs(src, found)
    if args.list:
        print(f"cache dir: {cache}")
        for name, version in specs:
            state = "present" if (cache / f"{name}@{version}" / STAMP).exists() else "missing"
            print(f"{name}@{version}\t{state}")
        return 0

    cache.mkdir(parents=True, exist_ok=True)
    install_plotly(cache)
    if not args.no_axe:
        install_axe(strict)
    missing = [(n, v) for n, v in specs if not (cache / f"{n}@{v}" / STAMP).exists()]
    if not missing:
        log(f"all {len(specs)} packages already in {cache}")
        return check_files(cache, files)
    if shutil.which("npm") is None:
        msg = "npm not found: Solara will fetch its browser assets from the CDN (needs internet)"
        if strict:
            raise SystemExit(f"install_solara_assets: {msg}")
        log(f"WARNING: {msg}")
        return 0

    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="solara-npm-") as tmp:
        names = [f"{n}@{v}" for n, v in missing]
        log(f"npm pack {' '.join(names)}")
        tarballs = npm_pack(names, Path(tmp))
        for spec, tarball in zip(names, tarballs, strict=True):
            unpack(tarball, cache / spec)
            log(f"installed {spec}")
    log(f"done: {len(missing)} installed, {len(specs) - len(missing)} already present, in {cache}")
    return check_files(cache, files)


def check_files(cache: Path, files: set[str]) -> int:
    """Every file solara's source names must be in the cache; supply a missing .min.js from its .js."""
    absent = []
    for rel in sorted(files):
        path = cache / rel
        if path.is_file():
            continue
        plain = path.with_name(path.name.replace(".min.js", ".js"))
        if path.name.endswith(".min.js") and plain.is_file():
            shutil.copyfile(plain, path)
            log(f"{rel}: not in the npm package; copied from {plain.name}")
            continue
        absent.append(rel)
    for rel in absent:
        log(f"WARNING: solara asks for {rel}, which the npm package does not have")
    return 0


if __name__ == "__main__":
    sys.exit(main())
