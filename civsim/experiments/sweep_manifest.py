"""A sweep's manifest: the identity hash that guards a directory, the shape a manifest
must have, and the words for what changed between two identities.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from civsim.errors import UserError


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no spaces: the input of :func:`identity_hash`."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def identity_hash(identity: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of an experiment's identity."""
    return hashlib.sha256(canonical_json(identity).encode("ascii")).hexdigest()


MAX_MANIFEST_BYTES = 2**30
"""A manifest larger than this is refused (it records at most 10 million design points)."""


_MANIFEST_SHAPE: tuple[tuple[str, type | tuple[type, ...]], ...] = (
    ("hash", str),
    ("n_runs", int),
    ("n_chunks", int),
    ("chunks", list),
    ("experiment", dict),
    ("experiment.name", str),
    ("identity", dict),
    ("identity.factors", list),
    ("identity.output", dict),
    ("identity.output.metrics", list),
    ("identity.output.keep", str),
    ("identity.steps", int),
    ("identity.seed", int),
    ("identity.replicates", int),
    ("identity.design", dict),
    ("design", dict),
    ("design.kind", str),
    ("design.n_points", int),
)


def check_manifest(manifest: Any, path: Path | str) -> None:
    """Refuse a manifest without the keys and types a sweep writes (one line naming the key).

    Raises
    ------
    UserError
        ``"DIR/_manifest.json: malformed manifest: <key> ..."``.
    """

    def bad(what: str) -> UserError:
        return UserError(f"{path}: malformed manifest: {what}; the sweep directory is damaged")

    if not isinstance(manifest, dict):
        raise bad(f"expected a JSON object, found {type(manifest).__name__}")
    for dotted, kind in _MANIFEST_SHAPE:
        node: Any = manifest
        for part in dotted.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            raise bad(f"{dotted} is missing")
        if not isinstance(node, kind) or (kind is int and isinstance(node, bool)):
            raise bad(f"{dotted} = {str(node)[:40]!r} has the wrong type")
    chunks = manifest["chunks"]
    if len(chunks) != manifest["n_chunks"] or not all(
        isinstance(c, list) and all(isinstance(r, int) and not isinstance(r, bool) for r in c) for c in chunks
    ):
        raise bad("chunks does not list n_chunks lists of run numbers")
    for i, f in enumerate(manifest["identity"]["factors"]):
        if not isinstance(f, dict) or not isinstance(f.get("name"), str):
            raise bad(f"identity.factors[{i}] has no name")


def describe_changes(old: dict[str, Any], new: dict[str, Any]) -> str:
    """Say in a few words which parts of two experiment identities differ."""
    parts = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if key == "model":
            parts.append("the model's code changed since these results were made")
        elif isinstance(a, dict) and isinstance(b, dict) and key == "base":
            names = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            shown = ", ".join(f"{k} {a.get(k)!r} -> {b.get(k)!r}" for k in names[:3])
            more = f" and {len(names) - 3} more" if len(names) > 3 else ""
            parts.append(f"parameters {shown}{more}")
        elif isinstance(a, (int, float, str)) and isinstance(b, (int, float, str)):
            parts.append(f"{key} {a!r} -> {b!r}")
        else:
            parts.append(f"{key} changed")
    return "; ".join(parts) or "unknown differences"
