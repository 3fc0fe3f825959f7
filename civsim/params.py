"""The parameter schema: every model parameter, once.

This module is the single source of truth for parameter names, types,
defaults, ranges, units, the strand each belongs to and its help text.
Scenario files, CLI overrides, experiment factors and the app's sliders are
all generated from or validated against :data:`SCHEMA`.

The definitions live in :mod:`civsim.parameters` (what a parameter is, one
module per group of parameters, the schema and its tables); this module is
the public import path and re-exports them.
"""

from __future__ import annotations

from civsim.parameters.engagement import COMPLETE_MAX_CITIZENS, NETWORKS, THRESHOLD_DISTRIBUTIONS
from civsim.parameters.locality import DEFAULT_DOMAINS
from civsim.parameters.param import MAX_SERIES, STRANDS, Param, ParamError
from civsim.parameters.schema import (
    _PARAMS,  # noqa: F401 - the ordered list, kept for old imports
    SCHEMA,
    check,
    defaults,
    resolve,
    suggest,
)
from civsim.parameters.tables import markdown_table, schema_records

__all__ = [
    "COMPLETE_MAX_CITIZENS",
    "DEFAULT_DOMAINS",
    "MAX_SERIES",
    "NETWORKS",
    "Param",
    "ParamError",
    "SCHEMA",
    "STRANDS",
    "THRESHOLD_DISTRIBUTIONS",
    "check",
    "defaults",
    "markdown_table",
    "resolve",
    "schema_records",
    "suggest",
]
