"""The model fingerprint: a short hash of the source code that decides a run's results.

It is part of a sweep's identity (:mod:`civsim.experiments.runner`), so results made by
different model code are never mixed in one directory, and it is recorded in the
manifests of paired experiments and calibrations.
"""

from __future__ import annotations

from pathlib import Path

MODEL_MODULES: tuple[str, ...] = (
    "civsim.params",
    "civsim.parameters.param",
    "civsim.parameters.locality",
    "civsim.parameters.austerity",
    "civsim.parameters.outcomes",
    "civsim.parameters.whole_systems",
    "civsim.parameters.coproduction",
    "civsim.parameters.engagement",
    "civsim.parameters.inclusion",
    "civsim.parameters.resilience",
    "civsim.parameters.cooperation",
    "civsim.parameters.schema",
    "civsim.rules",
    "civsim.rules.draws",
    "civsim.rules.citizens",
    "civsim.rules.networks",
    "civsim.rules.agencies",
    "civsim.rules.outcomes",
    "civsim.rules.council",
    "civsim.inputs",
    "civsim.kernels",
    "civsim.world",
    "civsim.process",
    "civsim.process.common",
    "civsim.process.council",
    "civsim.process.cells",
    "civsim.process.citizens",
    "civsim.process.choices",
    "civsim.metrics",
    "civsim.seeding",
    "civsim.batch.core",
    "civsim.batch.step",
    "civsim.batch.structures",
)
"""Modules whose source decides a run's results (hashed by :func:`model_fingerprint`)."""


def model_fingerprint(engine: str = "batch") -> str:
    """A short hash of the model's source code, part of a sweep's identity.

    Results made by different model code are never mixed in one directory:
    resuming after the model changed is refused like a changed experiment.
    """
    import hashlib
    import importlib.util

    h = hashlib.sha256(engine.encode())
    for name in MODEL_MODULES if engine == "batch" else ("civsim.experiments.engines",):
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:  # pragma: no cover - broken install
            continue
        h.update(name.encode())
        h.update(Path(spec.origin).read_bytes())
    return h.hexdigest()[:16]
