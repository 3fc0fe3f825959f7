"""Observed data shipped with civsim (see civsim/calibration/evidence.py and docs/calibration.md)."""
