"""Fixed structures of a batch: the pair indices a step walks and the runs' stacked ties.

Built once per batch from its sizes and worlds (see :class:`civsim.batch.core.BatchModel`).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


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
