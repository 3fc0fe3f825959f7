"""The compiled loops over citizens (civsim.kernels) against their numpy definitions.

The kernels must give exactly the numbers the plain numpy formulation gives
(``np.bincount`` in citizen order, the rules applied elementwise), for any
sizes and states; and their compiled-code cache must follow edits to the rules.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from civsim import kernels, process, rules


@st.composite
def citizens(draw):
    B = draw(st.integers(1, 3))
    N = draw(st.integers(1, 60))
    M = draw(st.integers(1, 3))
    G = draw(st.integers(1, 3))
    K = draw(st.integers(1, 4))
    per_hood = draw(st.integers(1, 3))
    S = M * per_hood
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    hood = rng.integers(0, M, N)
    group = rng.integers(0, G, (B, N))
    member = np.where(
        rng.random((B, N)) < 0.5, -1, hood[None, :] * per_hood + rng.integers(0, per_hood, (B, N))
    )
    return {
        "B": B,
        "N": N,
        "M": M,
        "G": G,
        "K": K,
        "S": S,
        "cell": process.cell_index(hood, group, M, G).astype(np.int32),
        "engaged": rng.random((B, N)) < 0.4,
        "member": member.astype(np.int32),
        "capacity": rng.random((B, N)),
        "trust": rng.random((B, N)),
        "mult": 1.0 + rng.random((B, S)),
        "focus": rng.integers(0, K, (B, S)),
        "vtype": rng.integers(0, K, (B, N)).astype(np.int32),
        "pop": np.bincount(process.cell_index(hood, group, M, G).ravel(), minlength=B * M * G).reshape(
            B, M, G
        ),
    }


def reference_sums(c):
    """The sums over citizens written as plain np.bincount calls (the definition)."""
    B, N, M, G, K, S = (c[k] for k in "BNMGKS")
    MG = M * G
    cell = c["cell"].ravel()
    member = c["member"].ravel()
    at = np.flatnonzero(member >= 0)
    slot = (at // N) * S + member[at]
    eng = np.flatnonzero(c["engaged"].ravel())
    inside = member[eng] >= 0
    cell2 = cell[eng] * 2 + inside
    ct = c["capacity"].ravel()[eng] * c["trust"].ravel()[eng]
    em = eng[inside]
    em_slot = (em // N) * S + member[em]
    counts = np.bincount(cell2, minlength=B * MG * 2).reshape(B, M, G, 2).astype(float)
    trust_cell = np.bincount(cell, weights=c["trust"].ravel(), minlength=B * MG).reshape(B, M, G)
    return {
        "members": np.bincount(slot, minlength=B * S).reshape(B, S).astype(float),
        "member_capacity": np.bincount(slot, c["capacity"].ravel()[at], minlength=B * S).reshape(B, S),
        "member_trust": np.bincount(slot, c["trust"].ravel()[at], minlength=B * S).reshape(B, S),
        "engaged_members_cell": counts[..., 1],
        "engaged_cell": counts[..., 0] + counts[..., 1],
        "unaffiliated_engaged_hood": counts[..., 0].sum(axis=2),
        "unaffiliated": np.bincount(cell2, ct, minlength=B * MG * 2).reshape(B, M, G, 2)[..., 0],
        "members_k": np.bincount(
            cell[em] * K + c["focus"].ravel()[em_slot],
            ct[inside] * c["mult"].ravel()[em_slot],
            minlength=B * MG * K,
        ).reshape(B, M, G, K),
        "hood_trust": trust_cell.sum(axis=2) / np.maximum(c["pop"].sum(axis=2), 1),
        "voice_type": np.bincount(
            cell[eng] * K + c["vtype"].ravel()[eng], 1.0 + inside, minlength=B * MG * K
        ).reshape(B, M, G, K),
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(c=citizens())
def test_citizen_sums_equal_bincount_definition_exactly(c):
    got = process.citizen_aggregates(
        c["cell"],
        c["engaged"],
        c["member"],
        c["capacity"],
        c["trust"],
        c["mult"],
        c["focus"],
        c["vtype"],
        c["pop"],
        c["K"],
    )
    want = reference_sums(c)
    assert set(got) == set(want)
    for key, value in want.items():
        assert got[key].shape == value.shape, key
        assert np.array_equal(got[key], value), key


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(c=citizens(), data=st.data())
def test_citizen_decisions_equal_the_rules_applied_elementwise(c, data):
    B, N, S = c["B"], c["N"], c["S"]
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    degree = rng.integers(0, 6, (B, N)).astype(np.float32)
    ties = np.minimum(rng.integers(0, 6, (B, N)), degree).astype(float)
    if data.draw(st.booleans()):  # as the batch core stores them: the smallest integers that hold them
        degree, ties = degree.astype(np.int8), ties.astype(np.int8)
    threshold = rng.random((B, N))
    contact = rng.random((B, N)) * 0.1
    u = rng.random((B, N))
    cohesion = np.pad(rng.random((B, S)), ((0, 0), (1, 0)))
    dissolving = np.pad(rng.random((B, S)) < 0.3, ((0, 0), (1, 0)))
    MG = c["M"] * c["G"]
    target_cell = rng.random(B * MG * 2)
    w = {k: rng.random(B) for k in ("contagion", "trust_weight", "rate")}
    M = c["M"]
    hood = rng.integers(0, M, N)
    burnout_hood = rng.random((B, M))
    u_join = rng.random((B, N))
    join_rate = rng.random(B) * 0.5
    eng_next, trust_next, member_next, joining = kernels.citizen_decisions(
        ties.ravel(),
        degree.ravel(),
        c["capacity"].ravel(),
        c["trust"].ravel(),
        c["engaged"].ravel(),
        c["member"].ravel(),
        threshold.ravel(),
        contact.ravel(),
        u.ravel(),
        (c["cell"] % MG).ravel(),  # the cell within the run
        cohesion,
        dissolving,
        target_cell,
        w["contagion"],
        w["trust_weight"],
        burnout_hood.ravel(),
        hood,
        w["rate"],
        u_join.ravel(),
        join_rate,
        N,
    )

    def col(a):
        return a[:, None]

    coh = np.take_along_axis(cohesion, c["member"] + 1, axis=1)
    push = rules.engagement_push(
        rules.tie_share(ties, degree),
        c["capacity"],
        c["trust"],
        coh,
        col(w["contagion"]),
        col(w["trust_weight"]),
    )
    burn = rules.burnout_probability(burnout_hood[np.arange(B)[:, None], hood[None, :]], c["capacity"], coh)
    want_eng = rules.next_engaged(c["engaged"], push, threshold, u, burn, contact)
    target = target_cell[c["cell"] * 2 + c["engaged"]]
    want_trust = rules.next_trust(c["trust"], target, col(w["rate"]))
    has = c["member"] >= 0
    stays = rules.keeps_membership(has, c["engaged"], np.take_along_axis(dissolving, c["member"] + 1, axis=1))
    assert np.array_equal(eng_next.reshape(B, N), want_eng)
    assert np.array_equal(trust_next.reshape(B, N), want_trust)
    assert np.array_equal(member_next.reshape(B, N), np.where(stays, c["member"], -1))
    one_open_network = np.ones((B, N, 1))  # cumulative weights: join_choice then says who joins at all
    joins = rules.join_choice(u_join, col(join_rate), one_open_network) >= 0
    assert np.array_equal(joining.reshape(B, N), c["engaged"] & ~has & joins)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 80), seed=st.integers(0, 2**32 - 1))
def test_tie_counts_follow_changes_exactly(n, seed):
    rng = np.random.default_rng(seed)
    upper = sp.triu(sp.random(n, n, density=0.15, random_state=rng) > 0, k=1)
    ties = sp.csr_array((upper + upper.T).astype(np.float32))
    before = rng.random(n) < 0.5
    after = rng.random(n) < 0.5
    counts = ties @ before.astype(float)
    kernels.update_tie_counts(ties.indptr, ties.indices, before, after, counts, n)
    assert np.array_equal(counts, ties @ after.astype(float))
    small = (ties @ before.astype(float)).astype(np.int8)  # as the batch core stores them (degree < 128)
    kernels.add_tie_changes(ties.indptr, ties.indices, before, after, small, 0, n)
    assert np.array_equal(small, ties @ after.astype(float))


def test_compiled_cache_is_keyed_on_the_rules_source(tmp_path, monkeypatch):
    here = kernels._cache_dir()
    from pathlib import Path

    for source in Path(rules.__file__).parent.glob("*.py"):
        (tmp_path / source.name).write_bytes(source.read_bytes())
    monkeypatch.setattr(rules, "__file__", str(tmp_path / "__init__.py"))
    assert kernels._cache_dir() == here  # same sources, same directory
    outcomes = tmp_path / "outcomes.py"
    outcomes.write_bytes(outcomes.read_bytes() + b"\n# an edited rule\n")
    assert kernels._cache_dir() != here
