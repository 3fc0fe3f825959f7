"""The vectorised batch core (see :mod:`civsim.batch.core`)."""

from civsim.batch.core import INTERVENTIONS, BatchModel, run_batch

__all__ = ["BatchModel", "run_batch", "INTERVENTIONS"]
