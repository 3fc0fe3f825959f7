"""Fixed structures of a batch: the pair indices a step walks, the runs' stacked ties and their counts.

Built once per batch from its sizes and worlds (see :class:`civsim.batch.core.BatchModel`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from civsim import kernels

if TYPE_CHECKING:
    from civsim.batch.parallel import Overlap


def pair_indices(S: int, A: int, net_hood: np.ndarray) -> dict[str, np.ndarray]:
    """Index arrays of the pairs a step walks, fixed by the sizes, so built once.

    Agency pairs (upper triangle); alliance pairs: network-network (upper
    triangle) then network-agency (row-major), as ``rows``/``cols`` of the
    (S + A, S + A) alliance matrix, with each network-agency pair's network,
    agency and the network's neighbourhood.
    """
    agency_i, agency_j = np.triu_indices(A, 1)
    net_i, net_j = np.triu_indices(S, 1)
    pair_net, pair_agency = np.divmod(np.arange(S * A), A)
    return {
        "agency_i": agency_i,
        "agency_j": agency_j,
        "net_i": net_i,
        "net_j": net_j,
        "pair_net": pair_net,
        "pair_agency": pair_agency,
        "pair_hood": net_hood[pair_net],
        "rows": np.concatenate([net_i, pair_net]),
        "cols": np.concatenate([net_j, S + pair_agency]),
    }


def with_no_network(per_slot: np.ndarray) -> np.ndarray:
    """(B, S) per-slot values with a leading zero column, indexed by ``member + 1`` (-1: no network)."""
    return np.concatenate([np.zeros_like(per_slot[:, :1]), per_slot], axis=1)


def small_int(largest: int) -> type[np.signedinteger]:
    """The smallest signed integer type that holds 0 .. ``largest`` (the compiled loops read less memory)."""
    for dtype in (np.int8, np.int16, np.int32):
        if largest <= np.iinfo(dtype).max:
            return dtype
    return np.int64


def stack_ties(parts: list[tuple[np.ndarray, np.ndarray]]) -> sp.csr_array:
    """Block-diagonal sparse matrix of the runs' ties (each given as CSR ``(indptr, indices)``).

    Run b's citizens are rows b N .. (b + 1) N - 1, so runs never touch. The
    values are a zero-stride view of ones: the matrix costs only its pattern.
    """
    n = parts[0][0].shape[0] - 1
    nnz = sum(int(ptr[-1]) for ptr, _ in parts)
    itype = np.int32 if nnz < np.iinfo(np.int32).max else np.int64
    indptr = [np.zeros(1, dtype=itype)]
    indices = []
    offset = 0
    for b, (ptr, idx) in enumerate(parts):
        indptr.append(ptr[1:].astype(itype) + offset)
        indices.append(idx.astype(itype) + itype(b * n))
        offset += int(ptr[-1])
    indices_all = np.concatenate(indices)
    ones = np.broadcast_to(np.float32(1.0), indices_all.shape)
    size = n * len(parts)
    return sp.csr_array((ones, indices_all, np.concatenate(indptr)), shape=(size, size))


def tie_counts(ties: sp.csr_array, engaged: np.ndarray, threads: int) -> tuple[np.ndarray, np.ndarray]:
    """Each citizen's degree and engaged ties (B, N), in the smallest integers that hold the largest degree.

    Exact counts, read every step by the decisions: small integers are less memory to read.
    """
    B, N = engaged.shape
    degree = np.diff(ties.indptr).reshape(B, N)
    degree = degree.astype(small_int(degree.max(initial=0)))
    counts = np.zeros((B, N), dtype=degree.dtype)
    with kernels.threads(threads):
        kernels.update_tie_counts(
            ties.indptr, ties.indices, np.zeros(B * N, dtype=bool), engaged.ravel(), counts.ravel(), N
        )
    return degree, counts


def count_tie_changes(
    ties: sp.csr_array,
    before: np.ndarray,
    after: np.ndarray,
    counts: np.ndarray,
    N: int,
    overlap: Overlap | None = None,
) -> None:
    """Update the engaged-tie ``counts`` (B, N) in place for the citizens whose engagement changed.

    With ``overlap``, on a pool thread while the caller goes on (the count
    releases the GIL; ``overlap.join()`` waits for it); otherwise on the
    calling thread's kernel threads, a run per thread. Integer counts: the
    same either way.
    """
    args = ties.indptr, ties.indices, before.ravel(), after.ravel(), counts.ravel()
    if overlap is not None:
        overlap.start(kernels.add_tie_changes, *args, 0, counts.size)
    else:
        kernels.update_tie_counts(*args, N)


def local_indices(cell: np.ndarray, hood: np.ndarray, M: int, G: int) -> dict[str, np.ndarray]:
    """Each citizen's cell within their run (B, N) and neighbourhood (N,), in the smallest integers.

    ``cell`` is flat over runs (:func:`civsim.process.cell_index`); the
    decisions read these instead (less memory) with their run's offset.
    """
    return {"cell": (cell % (M * G)).astype(small_int(M * G)), "hood": hood.astype(small_int(M))}
