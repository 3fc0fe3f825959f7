"""Memory budget and concurrency limits, checked before anything large is allocated.

A run's memory is dominated by its citizens: the batch core holds about 200
bytes per citizen per run (147-195 measured, ``docs/performance.md``), the
Mesa engine about 800 (one Python object per citizen). On top come the
recorded series (one row of about 32 float64 metrics per run and step, held
a few times over while frames are built), per-point bookkeeping in sweeps,
and the interpreter with its libraries. :func:`run_bytes`,
:func:`comparison_bytes` and :func:`sweep_bytes` estimate the peak from
these figures; :func:`check` compares an estimate with the budget and
refuses with one line (:class:`MemoryBudgetError`, a
:class:`~civsim.errors.UserError`: ``error: ...`` and exit 2 on the CLI, a
message on the page in the app).

The budget is the smallest of the memory the system has available now
(``MemAvailable``, and the cgroup's ``memory.max`` less ``memory.current``
in a container) and ``CIVSIM_MEMORY_LIMIT`` (e.g. ``4G``, ``512M``;
``off`` switches the check off). In the web app each heavy job (a
comparison, a live model) is also held to ``CIVSIM_APP_JOB_MEMORY``
(default 1G) and at most ``CIVSIM_APP_MAX_JOBS`` (default 2) run at once;
see ``docs/security.md``.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

from civsim.errors import UserError

BYTES_PER_CITIZEN_RUN: dict[str, int] = {"batch": 200, "mesa": 800, "toy": 16}
"""Peak bytes per citizen per run of each engine (measured: batch 146-195, Mesa 732-792)."""
BYTES_PER_RUN_STEP = 1024
"""Recorded series: ~32 float64 metrics per run and step, held about four times while frames are built."""
BYTES_PER_POINT = 4096
"""A sweep's bookkeeping per design point (resolved parameters, points, manifest JSON)."""
FIXED_BYTES = 300 * 2**20
"""Python, numpy, pandas, numba and pyarrow loaded (one process; ~210 MB measured, plus slack)."""
WORKER_BYTES = 250 * 2**20
"""Each extra worker process of a sweep (its own interpreter and libraries)."""

ENV_LIMIT = "CIVSIM_MEMORY_LIMIT"
ENV_APP_JOB = "CIVSIM_APP_JOB_MEMORY"
ENV_APP_JOBS = "CIVSIM_APP_MAX_JOBS"
DEFAULT_APP_JOB = 2**30
DEFAULT_APP_JOBS = 2

_UNITS = {"": 1, "B": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


class MemoryBudgetError(UserError):
    """A job would need more memory than the budget allows."""


class BusyError(UserError):
    """The app is already running as many heavy jobs as it allows."""


def parse_size(text: str, name: str = ENV_LIMIT) -> int | None:
    """``"4G"``, ``"512M"``, ``"1.5GB"``, ``"1000000"`` to bytes; ``"off"`` / ``"none"`` to None.

    Raises
    ------
    UserError
        For anything else (naming the variable and the value).
    """
    raw = text.strip()
    if raw.lower() in ("off", "none", "unlimited"):
        return None
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGTkmgt]?)(?:i?[Bb])?", raw)
    if not m or float(m.group(1)) <= 0:
        raise UserError(
            f"{name}={text!r} is not allowed: expected a size such as 4G, 512M or 1000000 bytes, or 'off'"
        )
    return int(float(m.group(1)) * _UNITS[m.group(2).upper()])


def human(n: float) -> str:
    """Bytes as a short figure: ``1.5 GB``, ``300 MB``."""
    for unit, scale in (("TB", 2**40), ("GB", 2**30), ("MB", 2**20), ("kB", 2**10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{int(n)} B"


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def available_bytes() -> int | None:
    """Memory this process could still use: MemAvailable, and the cgroup's headroom if smaller.

    None when the system does not say (not Linux).
    """
    found: list[int] = []
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
                break
    cg = Path("/sys/fs/cgroup")
    limit, current = _read_int(cg / "memory.max"), _read_int(cg / "memory.current")
    if limit is not None and current is not None:
        found.append(max(0, limit - current))
    return min(found) if found else None


def budget() -> tuple[int | None, str]:
    """The budget in bytes and where it comes from (None: no check)."""
    raw = os.environ.get(ENV_LIMIT, "").strip()
    limit = parse_size(raw) if raw else None
    if raw and limit is None:
        return None, f"{ENV_LIMIT}=off"
    avail = available_bytes()
    if limit is not None and (avail is None or limit <= avail):
        return limit, f"{ENV_LIMIT}={raw}"
    if avail is not None:
        return avail, "memory available now"
    return None, "unknown"


def run_bytes(n_citizens: int, runs: int, steps: int, engine: str = "batch") -> int:
    """Peak bytes of ``runs`` replicates of one point (``civsim run``), without the interpreter.

    The batch core holds every replicate at once; the Mesa engine one run at
    a time. The recorded series of every run are held to the end.
    """
    per = BYTES_PER_CITIZEN_RUN.get(engine, BYTES_PER_CITIZEN_RUN["batch"])
    at_once = runs if engine != "mesa" else 1
    return int(n_citizens) * per * at_once + int(runs) * (int(steps) + 1) * BYTES_PER_RUN_STEP


def comparison_bytes(n_scenarios: int, reps: int, steps: int, n_citizens: int) -> int:
    """Peak bytes of the Compare page: one scenario's ``reps`` runs at once, every series kept."""
    model = int(n_citizens) * BYTES_PER_CITIZEN_RUN["batch"] * int(reps)
    return model + int(n_scenarios) * int(reps) * (int(steps) + 1) * BYTES_PER_RUN_STEP


def sweep_bytes(
    n_points: int,
    max_citizens: int,
    chunk_size: int,
    steps: int,
    workers: int,
    engine: str = "batch",
    series_row_bytes: int = 0,
) -> int:
    """Peak bytes of a sweep, without the main interpreter.

    Each worker holds one chunk (``chunk_size`` runs of the largest point);
    the main process holds the design and, for series sweeps, a window of
    finished chunk tables (``2 workers + 2``).
    """
    per = BYTES_PER_CITIZEN_RUN.get(engine, BYTES_PER_CITIZEN_RUN["batch"])
    chunk = int(chunk_size) * (int(max_citizens) * per + (int(steps) + 1) * BYTES_PER_RUN_STEP)
    window = (2 * int(workers) + 2) * int(chunk_size) * (int(steps) + 1) * int(series_row_bytes)
    extra = (int(workers) - 1) * WORKER_BYTES if workers > 1 else 0
    return int(workers) * chunk + int(n_points) * BYTES_PER_POINT + window + extra


def check(need: int, what: str, hint: str = "", *, fixed: int = FIXED_BYTES) -> None:
    """Refuse (one line) when ``need`` + ``fixed`` bytes exceed the budget.

    Parameters
    ----------
    need : int
        Estimated peak of the job itself.
    what : str
        The job, in a few words (``"2,000,000 citizens x 10,000 runs"``).
    hint : str
        What to change to make it fit.
    fixed : int
        Cost already paid by this process (interpreter and libraries).

    Raises
    ------
    MemoryBudgetError
    """
    limit, source = budget()
    if limit is None:
        return
    total = int(need) + int(fixed)
    if total > limit:
        tail = f"; {hint}" if hint else ""
        raise MemoryBudgetError(
            f"{what} needs about {human(total)} of memory; the limit is {human(limit)} ({source}){tail}; "
            f"set {ENV_LIMIT} to change the limit"
        )


# --------------------------------------------------------------------------
# The web app: heavy jobs


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise UserError(f"{name}={raw!r} is not allowed: expected a whole number >= 1")
    return int(raw)


def app_job_limit() -> int | None:
    """Bytes one heavy job in the app may use (``CIVSIM_APP_JOB_MEMORY``, default 1G)."""
    raw = os.environ.get(ENV_APP_JOB, "").strip()
    return parse_size(raw, ENV_APP_JOB) if raw else DEFAULT_APP_JOB


def check_app(need: int, what: str, hint: str = "") -> None:
    """Refuse an app job over ``CIVSIM_APP_JOB_MEMORY`` or over the memory available now.

    Raises
    ------
    MemoryBudgetError
    """
    per_job = app_job_limit()
    if per_job is not None and need > per_job:
        tail = f"; {hint}" if hint else ""
        raise MemoryBudgetError(
            f"{what} needs about {human(need)} of memory; this server allows {human(per_job)} per run{tail}"
        )
    check(need, what, hint, fixed=0)


_jobs_lock = threading.Lock()
_jobs_running = 0


def jobs_running() -> int:
    """Heavy jobs running now in this process."""
    return _jobs_running


@contextlib.contextmanager
def heavy_job(need: int, what: str, hint: str = "") -> Iterator[None]:
    """Run a heavy app job (a comparison, a live model) within the app's limits.

    Checks ``need`` against ``CIVSIM_APP_JOB_MEMORY`` and the machine's
    budget (the server's own memory is already counted in what is
    available), then takes one of ``CIVSIM_APP_MAX_JOBS`` slots for the
    duration, refusing at once when all are taken.

    Raises
    ------
    MemoryBudgetError, BusyError
    """
    global _jobs_running
    check_app(need, what, hint)
    allowed = _env_int(ENV_APP_JOBS, DEFAULT_APP_JOBS)
    with _jobs_lock:
        if _jobs_running >= allowed:
            raise BusyError(
                f"the server is already running {_jobs_running} heavy job(s), its limit; "
                "try again in a moment"
            )
        _jobs_running += 1
    try:
        yield
    finally:
        with _jobs_lock:
            _jobs_running -= 1
