"""What ablation and lever reports share: the engine's name, the command line, the
"Regenerate with" sentence and the manifest's common fields.

Both results (:class:`.ablation.AblationResult`, :class:`.levers.LeverResult`) hold
the experiment (a :class:`.paired_spec.PairedExperiment`), the runs' statistics, the
engine's name and every variant run.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Any

from civsim.experiments.paired import SEED_RULE, EngineFn, RunStats


def engine_name(engine: str | EngineFn) -> str:
    """The engine's name for results and manifests (a fake engine's function name)."""
    return engine if isinstance(engine, str) else getattr(engine, "__name__", "custom")


def command_line(command: str | None) -> str:
    """The command that regenerates a report: ``command``, or this process's ``civsim ...``."""
    return " ".join(["civsim", *sys.argv[1:]]) if command is None else command


def regenerate_lines(command: str, s: RunStats) -> list[str]:
    """The report's "Regenerate with ..." sentence and a blank line (none without a command)."""
    if not command:
        return []
    return [
        f"Regenerate with `{command}` ({s.runs:,} runs: {s.seconds:.0f} s wall, "
        f"{s.cpu_seconds:.0f} s CPU, {s.backend}, {s.workers} worker{'s' if s.workers != 1 else ''}).",
        "",
    ]


def run_manifest(kind: str, result: Any, specific: dict[str, Any], command: str) -> dict[str, Any]:
    """What was run: the file, settings, seed rule, engine and model, ``specific`` (the
    kind's own fields), every point's resolved parameters, the run, the command, versions."""
    from civsim.experiments.runner import model_fingerprint
    from civsim.simulate import versions

    exp, s = result.experiment, result.stats
    return {
        "kind": kind,
        "experiment": {"name": exp.name, "path": str(exp.path), "text": exp.text},
        "settings": exp.settings(),
        "seeds": {"rule": SEED_RULE, "seed": exp.seed, "blocks": exp.blocks, "replicates": exp.replicates},
        "engine": result.engine,
        "model": model_fingerprint("batch") if result.engine == "batch" else result.engine,
        **specific,
        "params": {k: v.params for k, v in result.variants.items()},
        "run": {
            "runs": s.runs,
            "citizen_steps": s.citizen_steps,
            "seconds": round(s.seconds, 2),
            "cpu_seconds": round(s.cpu_seconds, 2),
            "backend": s.backend,
            "workers": s.workers,
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        },
        "command": command,
        "versions": versions(),
    }
