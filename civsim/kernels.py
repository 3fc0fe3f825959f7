"""Compiled loops over citizens (numba).

The sums over citizens that both engines take (through
:func:`civsim.process.citizen_aggregates`), and the batch core's per-citizen
decisions, engaged-tie bookkeeping and network founding. At a million
citizens the per-citizen work is a few arithmetic operations each; done as
separate numpy passes it is bound by memory traffic (about forty passes a
step). These loops do it in one pass per phase. They hold no model logic of
their own: the rules are the functions of :mod:`civsim.rules`, compiled as
they are with ``numba.njit`` (same operations, same order, no fast-math), and
each sum is accumulated in citizen order, exactly as ``np.bincount`` does, so
results are bit-identical to the numpy expressions (``tests/test_kernels.py``).

Arrays are flattened over runs: citizen ``i`` of run ``b`` is ``b N + i``, and
per-slot arrays are indexed ``b S + s``.

Threads: the loops over citizens are compiled with ``parallel=True`` and
``numba.prange``. The sums and the tie counts give each thread whole runs (a
run's citizens never touch another run's sums or ties, and each run is still
summed in citizen order); the per-citizen decisions split the citizens, in
blocks within a run. The tie counts are integers, so they can also be taken
on one thread of their own (:func:`add_tie_changes`) while the batch core
goes on. So any number of threads gives the same bits as one
(``tests/test_threads.py``). How
many threads: :func:`thread_count`, and :func:`threads` for a block of calls.
Waiting threads sleep rather than spin (``OMP_WAIT_POLICY=PASSIVE`` unless
set): on a machine shared with other work, spinning threads took the cores
the other threads needed and made a step several times slower than one thread.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # read when numba first starts its OpenMP threads

import numba  # noqa: E402
import numpy as np  # noqa: E402

from civsim import rules  # noqa: E402
from civsim.errors import UserError  # noqa: E402


def _private_dir(path: Path) -> bool:
    """Make ``path`` (and missing parents) with mode 0700; True if it is then a directory we own
    that nobody else can write to, reached without a symbolic link in its last part."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o022


def _cache_dir() -> str | None:
    """Where compiled kernels are cached: one private directory per version of the rules and loops.

    Numba's own cache notices a change to this file only, not to the rules it
    compiles from :mod:`civsim.rules`; keying the directory on the sources of
    every rules module and this one
    means an edited rule is always recompiled. Numba unpickles the index files
    it finds there, so the directory must be one only this user can write:
    ``$CIVSIM_NUMBA_CACHE`` or ``~/.cache/civsim/numba`` (``$XDG_CACHE_HOME``),
    created 0700 and checked to be owned by this user and not group- or
    world-writable, or else None: no disk cache (kernels compile in each
    process). ``CIVSIM_NUMBA_CACHE=off`` switches the disk cache off.
    """
    digest = hashlib.sha256()
    rule_files = sorted(Path(rules.__file__).parent.glob("*.py"))
    for path in (*rule_files, Path(__file__)):
        digest.update(path.read_bytes())
    chosen = os.environ.get("CIVSIM_NUMBA_CACHE", "").strip()
    if chosen.lower() in ("off", "none", "0"):
        return None
    try:
        home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    except RuntimeError:  # no home directory
        return None
    root = Path(chosen) if chosen else home / "civsim" / "numba"
    path = root / digest.hexdigest()[:16]
    if not (_private_dir(root) and _private_dir(path)):
        return None
    return str(path)


_saved_cache_dir = numba.config.CACHE_DIR
_CACHE = _cache_dir()
if _CACHE is not None:
    numba.config.CACHE_DIR = _CACHE
_jit = numba.njit(cache=_CACHE is not None, nogil=True)
_pjit = numba.njit(cache=_CACHE is not None, nogil=True, parallel=True)

CHUNK = 4096
"""Citizens per block of the decisions pass (threads take blocks; a block never spans two runs)."""

# no zero-division check in the share (its divisor is at least 1): same numbers, and a tighter loop
tie_share = numba.njit(cache=_CACHE is not None, nogil=True, error_model="numpy")(rules.tie_share)
engagement_push = _jit(rules.engagement_push)
burnout_probability = _jit(rules.burnout_probability)
next_engaged = _jit(rules.next_engaged)
next_trust = _jit(rules.next_trust)
keeps_membership = _jit(rules.keeps_membership)
claim_slots = _jit(rules.claim_slots)


@_pjit
def citizen_sums(cell, engaged, member, capacity, trust, mult, focus, vtype, N, S, MG, K):
    """Every sum over citizens the processes need, in one pass (see process.citizen_aggregates).

    Inputs are flat: ``cell``, ``engaged``, ``member``, ``capacity``, ``trust``,
    ``vtype`` over B N citizens; ``mult``, ``focus`` over B S slots.
    Returns per slot: members, their capacity and trust; per cell: engaged
    citizens outside / inside networks (``2 c + in``), the capacity x trust
    of the engaged outside networks, everyone's trust; per cell and domain:
    members' pooled action (capacity x trust x multiplier), and the engaged
    by the domain they champion (``vtype``), members twice. Threads take
    whole runs, and each run is summed in citizen order.
    """
    BN = engaged.shape[0]
    B = BN // N
    members = np.zeros(B * S)
    member_capacity = np.zeros(B * S)
    member_trust = np.zeros(B * S)
    counts = np.zeros(B * MG * 2)
    unaffiliated = np.zeros(B * MG * 2)
    members_k = np.zeros(B * MG * K)
    trust_cell = np.zeros(B * MG)
    voice = np.zeros(B * MG * K)
    for b in numba.prange(B):
        for i in range(b * N, (b + 1) * N):
            c = cell[i]
            tau = trust[i]
            trust_cell[c] += tau
            m = member[i]
            slot = b * S + m
            if m >= 0:
                members[slot] += 1.0
                member_capacity[slot] += capacity[i]
                member_trust[slot] += tau
            if engaged[i]:
                ct = capacity[i] * tau
                if m >= 0:
                    counts[2 * c + 1] += 1.0
                    members_k[c * K + focus[slot]] += ct * mult[slot]
                    voice[c * K + vtype[i]] += 2.0
                else:
                    counts[2 * c] += 1.0
                    unaffiliated[2 * c] += ct
                    voice[c * K + vtype[i]] += 1.0
    return members, member_capacity, member_trust, counts, unaffiliated, members_k, trust_cell, voice


@_pjit
def citizen_decisions(
    engaged_ties,
    degree,
    capacity,
    trust,
    engaged,
    member,
    threshold,
    contact,
    u_engage,
    cell,
    cohesion_ext,
    dissolving_ext,
    target_cell,
    contagion_weight,
    trust_weight,
    burnout_hood,
    hood,
    trust_rate,
    u_join,
    join_rate,
    N,
):
    """Engagement, trust and membership at t+1 for every citizen, from the state at t.

    ``cohesion_ext`` and ``dissolving_ext`` are per run (B, S + 1) with a
    leading 0 / False for "no network", so ``member + 1`` indexes them;
    ``target_cell`` is the trust target per (cell, engaged), flat (B MG 2),
    indexed by each citizen's ``cell`` within their run (m G + g, flat B N);
    ``burnout_hood`` the burnout rate per neighbourhood (flat B M, the base
    rate plus any aid strain), indexed by ``hood`` (N,: every run's
    citizens live in the same neighbourhoods). The other weights and
    ``join_rate`` are per run (B,). The per-citizen arrays may be of any
    integer and float types (the batch core stores counts and indices in the
    smallest that holds them: the loop reads less memory). Returns engaged',
    trust', member' where a citizen keeps their network (else -1), and
    ``joining``: the engaged citizens outside a network whose join draw
    ``u_join`` is below their run's join rate. Only they can join one
    (:func:`civsim.rules.join_choice`, which picks the network, gives -1 to
    everyone else), and they are a few percent of the citizens, so the
    choice is made after, for them alone. Citizens are independent, so
    threads split them, in blocks of :data:`CHUNK` within a run (a run's
    weights are read once per block).
    """
    BN = engaged.shape[0]
    B = BN // N
    MG2 = target_cell.shape[0] // B
    M = burnout_hood.shape[0] // B
    engaged_next = np.empty(BN, dtype=np.bool_)
    trust_next = np.empty(BN)
    member_next = np.empty(BN, dtype=member.dtype)
    joining = np.empty(BN, dtype=np.bool_)
    per_run = (N + CHUNK - 1) // CHUNK
    for job in numba.prange(B * per_run):
        b = job // per_run
        lo = b * N + (job - b * per_run) * CHUNK
        hi = min(lo + CHUNK, (b + 1) * N)
        coh_b, dis_b = cohesion_ext[b], dissolving_ext[b]
        target_b, burnout_b = target_cell[b * MG2 : (b + 1) * MG2], burnout_hood[b * M : (b + 1) * M]
        cw, tw, rate, jr = contagion_weight[b], trust_weight[b], trust_rate[b], join_rate[b]
        for i in range(lo, hi):
            m = member[i]
            eng = engaged[i]
            has = m >= 0
            coh = coh_b[m + 1]
            frac = tie_share(engaged_ties[i], degree[i])
            push = engagement_push(frac, capacity[i], trust[i], coh, cw, tw)
            burn = burnout_probability(burnout_b[hood[i - b * N]], capacity[i], coh)
            engaged_next[i] = next_engaged(eng, push, threshold[i], u_engage[i], burn, contact[i])
            target = target_b[cell[i] * 2 + eng]
            trust_next[i] = next_trust(trust[i], target, rate)
            stays = keeps_membership(has, eng, dis_b[m + 1])
            member_next[i] = m if stays else -1
            joining[i] = eng and not has and u_join[i] < jr
    return engaged_next, trust_next, member_next, joining


@_jit
def add_tie_changes(indptr, indices, engaged, engaged_next, counts, lo, hi):
    """Citizens ``lo`` to ``hi`` - 1 who changed state add +1 / -1 to the engaged-tie count of each tie.

    Integer counts, so the order of the additions does not matter.
    """
    for i in range(lo, hi):
        if engaged_next[i] != engaged[i]:
            sign = 1 if engaged_next[i] else -1
            for p in range(indptr[i], indptr[i + 1]):
                counts[indices[p]] += sign


@_pjit
def update_tie_counts(indptr, indices, engaged, engaged_next, counts, N):
    """Add +1 / -1 to the engaged-tie count of every tie of a citizen who changed state.

    Ties are symmetric, so this equals recounting every citizen's engaged
    ties; the counts stay exact integers. Ties never cross runs (N citizens
    each), so threads take whole runs. (:func:`add_tie_changes` alone does
    the same on the calling thread.)
    """
    B = engaged.shape[0] // N
    for b in numba.prange(B):
        add_tie_changes(indptr, indices, engaged, engaged_next, counts, b * N, (b + 1) * N)


@_jit
def claim_slots_per_run(alive, slot_hood, dissolving, founders, hood_focus, wants_scale, focus):
    """:func:`civsim.rules.claim_slots` for each of B runs (rows of the (B, S) and (B, M) inputs)."""
    B, S = alive.shape
    new_focus = np.empty((B, S), dtype=np.int64)
    parent = np.empty((B, S), dtype=np.int64)
    for b in range(B):
        new_focus[b], parent[b] = claim_slots(
            alive[b], slot_hood, dissolving[b], founders[b], hood_focus[b], wants_scale[b], focus[b]
        )
    return new_focus, parent


@_jit
def components(adjacency):
    """Connected components of each run's graph (B, n, n), as scipy's ``connected_components`` numbers them.

    Returns labels (B, n) and the number of components per run (B,).
    Components are numbered in the order of their lowest node, as scipy's
    undirected search does, so code that walks them in label order gets the
    same results; an edge in either direction joins two nodes.
    """
    B, n, _ = adjacency.shape
    label = np.full((B, n), -1, dtype=np.int64)
    count = np.zeros(B, dtype=np.int64)
    stack = np.empty(n, dtype=np.int64)
    for b in range(B):
        k = 0
        for start in range(n):
            if label[b, start] >= 0:
                continue
            label[b, start] = k
            stack[0] = start
            top = 1
            while top > 0:
                top -= 1
                v = stack[top]
                for w in range(n):
                    if label[b, w] < 0 and (adjacency[b, v, w] or adjacency[b, w, v]):
                        label[b, w] = k
                        stack[top] = w
                        top += 1
            k += 1
        count[b] = k
    return label, count


numba.config.CACHE_DIR = _saved_cache_dir


THREADS_ENV = "CIVSIM_THREADS"
"""Environment variable: how many threads the kernels use (``1`` forces one)."""

PARALLEL_MIN_CITIZENS = 100_000
"""Citizens a step (runs x citizens) below which the default is one thread.

A pass over fewer citizens takes well under a millisecond, about what it
costs to wake a second thread on a busy machine: at N = 2,000, B = 8 two
threads were slower than one here, at N = 1e5, B = 8 they were faster."""


def thread_count(requested: int | None = None, citizens: int | None = None) -> int:
    """How many threads the kernels use, between 1 and ``NUMBA_NUM_THREADS``.

    ``requested`` if given; else ``$CIVSIM_THREADS``; else the default: one
    thread in a worker process of a pool (a multiprocessing child: its pool
    already spreads the work over the cores) or for fewer than
    :data:`PARALLEL_MIN_CITIZENS` ``citizens`` a step, otherwise numba's
    setting for the calling thread (``NUMBA_NUM_THREADS``, or what
    ``numba.set_num_threads`` set).
    """
    if requested is None:
        requested = _env_threads()
    if requested is None:
        requested = _default_threads(citizens)
    if requested < 1:
        raise UserError(f"threads={requested}: expected at least 1")
    return min(int(requested), numba.config.NUMBA_NUM_THREADS)


def _env_threads() -> int | None:
    env = os.environ.get(THREADS_ENV, "").strip()
    if not env:
        return None
    if not env.isdigit() or int(env) < 1:
        raise UserError(f"${THREADS_ENV}={env!r}: expected a whole number of threads, at least 1")
    return int(env)


def _default_threads(citizens: int | None) -> int:
    small = citizens is not None and citizens < PARALLEL_MIN_CITIZENS
    if small or multiprocessing.parent_process() is not None:
        return 1
    return numba.get_num_threads()


@contextmanager
def threads(n: int | None = None) -> Iterator[int]:
    """Kernels called in this block, from this thread, use ``n`` threads (None: :func:`thread_count`).

    Sets numba's thread count for the calling thread and restores it on
    leaving; yields the count used.
    """
    n = thread_count(n)
    saved = numba.get_num_threads()
    numba.set_num_threads(n)
    try:
        yield n
    finally:
        numba.set_num_threads(saved)


__all__ = [
    "THREADS_ENV",
    "PARALLEL_MIN_CITIZENS",
    "citizen_sums",
    "citizen_decisions",
    "update_tie_counts",
    "add_tie_changes",
    "claim_slots_per_run",
    "components",
    "thread_count",
    "threads",
]
