"""Serve the app: ``civsim app [--host 127.0.0.1] [--port 8765]``.

Runs ``solara run civsim.app.pages --production --no-open`` in a child
process, bound to 127.0.0.1 unless another host is asked for. Solara's
browser assets come from ``<venv>/share/solara/cdn`` (installed offline by
``make venv``); without them and without internet the page stays blank.
"""

from __future__ import annotations

import errno
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

from civsim.errors import UserError

APP_MODULE = "civsim.app.pages"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
CULL_TIMEOUT = "3m"
"""How long a session whose browser disconnected is kept (SOLARA_KERNEL_CULL_TIMEOUT overrides)."""
MAX_SESSIONS = 80
"""Sessions served at once (SOLARA_KERNEL_MAX_COUNT overrides): a workshop of 40 phones plus three
more rooms of six and their hosts is 62 pages (issue 14's scale); each idle session holds a few MB."""


def command(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> list[str]:
    """The solara command line that serves the app."""
    return [
        sys.executable, "-m", "solara", "run", APP_MODULE,
        "--host", host, "--port", str(int(port)), "--production", "--no-open",
    ]  # fmt: skip


def cdn_cache_dir() -> Path:
    """Where Solara looks for its cached browser assets."""
    return Path(sys.prefix) / "share" / "solara" / "cdn"


def check_host(host: str) -> None:
    """Refuse an empty host: Solara would listen on every interface (e.g. an unset shell variable)."""
    if not isinstance(host, str) or not host.strip() or host != host.strip():
        raise UserError(
            f"--host {host!r} is not allowed: give an interface address, e.g. 127.0.0.1 "
            "(this machine only) or 0.0.0.0 (every interface: see docs/security.md first)"
        )


def check_port(host: str, port: int) -> None:
    """Fail with one clear line if the port cannot be bound."""
    check_host(host)
    if not 0 <= int(port) <= 65535:
        raise UserError(f"--port {port} is not allowed: expected 0 to 65535")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, int(port)))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise UserError(
                    f"port {port} on {host} is already in use: choose another with --port"
                ) from None
            raise UserError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None


def environment() -> dict[str, str]:
    env = dict(os.environ)
    # the Solara server must find the same civsim the CLI imported (e.g. a source checkout)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    env.setdefault("MPLBACKEND", "Agg")
    # a tab whose browser went away is dropped after a few minutes, not Solara's default 24 hours
    env.setdefault("SOLARA_KERNEL_CULL_TIMEOUT", CULL_TIMEOUT)
    # at most this many sessions are served at once; further tabs wait until one closes
    env.setdefault("SOLARA_KERNEL_MAX_COUNT", str(MAX_SESSIONS))
    return env


def check_limits(env: dict[str, str]) -> None:
    """Check the app's limit settings before the server starts (one line per bad value)."""
    from civsim import limits

    limits.app_job_limit()
    limits._env_int(limits.ENV_APP_JOBS, limits.DEFAULT_APP_JOBS)
    limits.budget()
    raw = env.get("SOLARA_KERNEL_MAX_COUNT", "")
    if not raw.isdigit() or int(raw) < 1:
        raise UserError(f"SOLARA_KERNEL_MAX_COUNT={raw!r} is not allowed: expected a whole number >= 1")
    cull = env.get("SOLARA_KERNEL_CULL_TIMEOUT", "")
    if not re.fullmatch(r"\d+(\.\d+)?\s*(s|m|h|d)?", cull.strip()):
        raise UserError(
            f"SOLARA_KERNEL_CULL_TIMEOUT={cull!r} is not allowed: expected a duration such as 90s, 5m or 1h"
        )


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """Serve the app until interrupted (Ctrl-C).

    Raises
    ------
    UserError
        When the port is taken or the server exits with an error.
    """
    check_port(host, port)
    env = environment()
    check_limits(env)
    if not any(cdn_cache_dir().glob("@widgetti/solara-vuetify-app@*")):
        print(
            "note: Solara's browser assets are not in "
            f"{cdn_cache_dir()}; without internet the page stays blank "
            "(run `make venv` or scripts/install_solara_assets.py)",
            file=sys.stderr,
        )
    print(
        f"civsim app: http://{host}:{port}/  (Explore /, Compare /compare, Workshop /workshop; Ctrl-C stops)",
        flush=True,
    )
    proc = subprocess.Popen(command(host, port), env=env)

    def stop(signum, frame):  # SIGTERM (e.g. a test fixture or systemd): stop the server too
        raise KeyboardInterrupt

    previous = (
        signal.signal(signal.SIGTERM, stop) if threading.current_thread() is threading.main_thread() else None
    )
    try:
        code = proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        return
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    if code != 0:
        raise UserError(f"the app server stopped with exit status {code}")


def main(argv: list[str] | None = None) -> None:
    """``python -m civsim.app.server [--host H] [--port P]`` (the CLI's ``civsim app`` does the same)."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m civsim.app.server", description="Serve the civsim web app.")
    ap.add_argument("--host", default=DEFAULT_HOST)
    ap.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = ap.parse_args(argv)
    try:
        serve(args.host, args.port)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
