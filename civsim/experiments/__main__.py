"""``python -m civsim.experiments``: the sweep, sensitivity and report commands alone."""

from civsim.experiments.commands import standalone_app

standalone_app()(prog_name="python -m civsim.experiments")
