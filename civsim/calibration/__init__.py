"""Calibration against evidence: history matching with GP emulators, then ABC-SMC.

Modules, one concept each: :mod:`~civsim.calibration.evidence` (shipped data
and the measurement model), :mod:`~civsim.calibration.spec` (calibration
files), :mod:`~civsim.calibration.runs` (model runs on the sweep executors,
kept on disk), :mod:`~civsim.calibration.emulator`,
:mod:`~civsim.calibration.history_matching`, :mod:`~civsim.calibration.abc`,
:mod:`~civsim.calibration.pipeline`, :mod:`~civsim.calibration.posterior`
(using a posterior), :mod:`~civsim.calibration.report` and
:mod:`~civsim.calibration.commands` (the CLI).
"""
