"""Serve the app: ``civsim app [--host 127.0.0.1] [--port 8765]``.

Runs ``solara run civsim.app.pages --production --no-open`` in a child
process, bound to 127.0.0.1 unless another host is asked for. Solara's
browser assets come from ``<venv>/share/solara/cdn`` (installed offline by
``make venv``); without them and without internet the page stays blank.
"""

from __future__ import annotations

import errno
import os
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


def command(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> list[str]:
    """The solara command line that serves the app."""
    return [
        sys.executable, "-m", "solara", "run", APP_MODULE,
        "--host", host, "--port", str(int(port)), "--production", "--no-open",
    ]  # fmt: skip


def cdn_cache_dir() -> Path:
    """Where Solara looks for its cached browser assets."""
    return Path(sys.prefix) / "share" / "solara" / "cdn"


def check_port(host: str, port: int) -> None:
    """Fail with one clear line if the port cannot be bound."""
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
    return env


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """Serve the app until interrupted (Ctrl-C).

    Raises
    ------
    UserError
        When the port is taken or the server exits with an error.
    """
    check_port(host, port)
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
    proc = subprocess.Popen(command(host, port), env=environment())

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
