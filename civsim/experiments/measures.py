"""Per-run measures: what a pattern or a lever experiment reads from each run.

A measure is one number per run, of one of three kinds:

- **column**: an output column (or the sum of several, minus the sum of
  others, e.g. ``engagement_majority - engagement_marginalised``) reduced
  over the run by a statistic: ``final``, ``mean`` (optionally over a
  ``window = [from, to]`` of steps), ``at`` a ``step``, ``min``, ``max`` or
  ``change`` (final minus step 0);
- **summary**: resilience after the run's first shock, from
  :func:`civsim.metrics.resilience` (as :func:`civsim.metrics.summarise`
  reports it): ``shock_dip``, ``shock_recovery_months`` (censored at the end
  of the run when outcomes never recover) or ``shock_regained``, the share of
  the dip regained ``months`` after the trough (never censored);
- **probe**: a quantity of the batch core's final state that is not an
  output column: ``agenda_pull`` (the council's weight on the networks'
  focus domains relative to a uniform agenda) or ``council_weight`` (the
  council's total weight on some ``domains``).

In a file a measure is a table, e.g. ``{ column = "inclusion_gap", stat =
"final" }``, ``{ column = "engagement_majority", minus =
"engagement_marginalised" }``, ``{ summary = "shock_recovery_months" }`` or
``{ probe = "council_weight", domains = ["jobs", "housing"] }``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from civsim.experiments.tomlcheck import FileCheck

STATS: tuple[str, ...] = ("final", "mean", "at", "min", "max", "change")
"""Statistics that reduce a column over a run."""

SUMMARIES: tuple[str, ...] = ("shock_dip", "shock_recovery_months", "shock_regained")
"""Resilience summaries of the run's first shock."""

PROBES: tuple[str, ...] = ("agenda_pull", "council_weight")
"""Quantities read from the batch core's final state."""

_KEYS = ("column", "minus", "stat", "step", "window", "summary", "months", "probe", "domains")


@dataclass(frozen=True)
class Measure:
    """One number per run (see the module docstring).

    Attributes
    ----------
    kind : {"column", "summary", "probe"}
    columns, minus : tuple of str
        Column kind: columns summed, and columns subtracted.
    stat : str
        Column kind: one of :data:`STATS`.
    step : int or None
        ``stat = "at"``: the step read.
    window : tuple of int or None
        ``mean``/``min``/``max``: first and last step included.
    summary : str
        Summary kind: one of :data:`SUMMARIES`.
    months : int
        ``shock_regained``: months after the trough.
    probe : str
        Probe kind: one of :data:`PROBES`.
    domains : tuple of str
        ``council_weight``: the domains summed.
    """

    kind: str
    columns: tuple[str, ...] = ()
    minus: tuple[str, ...] = ()
    stat: str = "final"
    step: int | None = None
    window: tuple[int, int] | None = None
    summary: str = ""
    months: int = 24
    probe: str = ""
    domains: tuple[str, ...] = ()

    @property
    def needs_model(self) -> bool:
        """True for probes, which read the batch core's state rather than its output frame."""
        return self.kind == "probe"

    @property
    def needs_shock(self) -> bool:
        """True for resilience summaries, which need a shock in the run."""
        return self.kind == "summary"

    def label(self) -> str:
        """Short readable name, e.g. ``final engagement_majority - engagement_marginalised``."""
        if self.kind == "summary":
            return (
                f"{self.summary} ({self.months} months)" if self.summary == "shock_regained" else self.summary
            )
        if self.kind == "probe":
            return f"{self.probe}({', '.join(self.domains)})" if self.domains else f"final {self.probe}"
        expr = " + ".join(self.columns) + "".join(f" - {m}" for m in self.minus)
        if len(self.columns) > 1 and self.minus:
            expr = f"({' + '.join(self.columns)})" + "".join(f" - {m}" for m in self.minus)
        if self.stat == "at":
            return f"{expr} at step {self.step}"
        if self.window is not None:
            return f"{self.stat} {expr} over steps {self.window[0]}-{self.window[1]}"
        return f"{self.stat} {expr}"

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready description (for manifests)."""
        out: dict[str, Any] = {"kind": self.kind, "label": self.label()}
        if self.kind == "column":
            out.update(columns=list(self.columns), minus=list(self.minus), stat=self.stat)
            if self.step is not None:
                out["step"] = self.step
            if self.window is not None:
                out["window"] = list(self.window)
        elif self.kind == "summary":
            out.update(summary=self.summary, months=self.months)
        else:
            out.update(probe=self.probe, domains=list(self.domains))
        return out


def column(name: str, stat: str = "final", minus: str | tuple[str, ...] = (), **kw: Any) -> Measure:
    """Shorthand for a column measure (for code and tests)."""
    minus = (minus,) if isinstance(minus, str) else tuple(minus)
    return Measure("column", columns=(name,), minus=minus, stat=stat, **kw)


def parse_measure(
    check: FileCheck,
    where: str,
    raw: Any,
    known_columns: tuple[str, ...],
    domains: tuple[str, ...],
    steps: int,
) -> Measure:
    """Validate a measure table from a file.

    Parameters
    ----------
    check : FileCheck
        Names the file in errors.
    where : str
        Key path of the table, for errors.
    raw : Any
        The parsed value.
    known_columns : tuple of str
        Output columns of the runs (:func:`civsim.metrics.series_columns`).
    domains : tuple of str
        Outcome domains of the runs.
    steps : int
        Months per run (bounds ``step`` and ``window``).

    Raises
    ------
    UserError
        One line naming the file, the key, the value and what is allowed.
    """
    table = check.table(where, raw)
    check.keys(where, table, _KEYS)
    kinds = [k for k in ("column", "summary", "probe") if k in table]
    if len(kinds) != 1:
        raise check.fail(where, "give exactly one of column = ..., summary = ... or probe = ...")
    kind = kinds[0]
    allowed = {
        "column": ("column", "minus", "stat", "step", "window"),
        "summary": ("summary", "months"),
        "probe": ("probe", "domains"),
    }[kind]
    for key in table:
        if key not in allowed:
            raise check.fail(
                f"{where} {key}", f"{key} does not go with {kind} = ...; allowed: {', '.join(allowed)}"
            )
    if kind == "summary":
        summary = check.string(f"{where} summary", table["summary"], SUMMARIES)
        months = check.integer(f"{where} months", table["months"], 1, steps) if "months" in table else 24
        if "months" in table and summary != "shock_regained":
            raise check.fail(f"{where} months", "months goes with summary = 'shock_regained' only")
        return Measure("summary", summary=summary, months=months)
    if kind == "probe":
        probe = check.string(f"{where} probe", table["probe"], PROBES)
        if probe == "council_weight":
            if "domains" not in table:
                raise check.fail(f"{where} domains", "missing: council_weight needs domains = [...]")
            doms = check.names(f"{where} domains", table["domains"], domains, "domain")
            return Measure("probe", probe=probe, domains=doms)
        if "domains" in table:
            raise check.fail(f"{where} domains", "domains goes with probe = 'council_weight' only")
        return Measure("probe", probe=probe)
    cols = check.names(f"{where} column", table["column"], known_columns, "output column")
    minus = (
        check.names(f"{where} minus", table["minus"], known_columns, "output column")
        if "minus" in table
        else ()
    )
    if set(cols) & set(minus):
        raise check.fail(f"{where} minus", f"{list(minus)!r} repeats a column of column = {list(cols)!r}")
    stat = check.string(f"{where} stat", table.get("stat", "final"), STATS)
    step = None
    if stat == "at":
        if "step" not in table:
            raise check.fail(f"{where} step", "missing: stat = 'at' needs step = n")
        step = check.integer(f"{where} step", table["step"], 0, steps)
    elif "step" in table:
        raise check.fail(f"{where} step", "step goes with stat = 'at' only")
    window = None
    if "window" in table:
        if stat not in ("mean", "min", "max"):
            raise check.fail(f"{where} window", "window goes with stat = 'mean', 'min' or 'max' only")
        w = table["window"]
        if not (isinstance(w, list) and len(w) == 2):
            raise check.fail(f"{where} window", f"{w!r} is not allowed: expected [first_step, last_step]")
        lo = check.integer(f"{where} window[0]", w[0], 0, steps)
        hi = check.integer(f"{where} window[1]", w[1], lo, steps)
        window = (lo, hi)
    return Measure("column", columns=cols, minus=minus, stat=stat, step=step, window=window)


def evaluate(measure: Measure, frame: pd.DataFrame, model: Any = None, b: int = 0) -> tuple[float, bool]:
    """The value of ``measure`` for one run.

    Parameters
    ----------
    measure : Measure
    frame : DataFrame
        The run's rows (``step`` and the output columns), ordered by step.
    model : BatchModel, optional
        The batch core after the run (probes only).
    b : int
        The run's position in ``model``.

    Returns
    -------
    value : float
        NaN when the run has no value (no shock for a resilience summary;
        no network members for ``agenda_pull``).
    censored : bool
        True when ``shock_recovery_months`` did not recover within the run;
        the value is then the months observed after the shock (a lower bound).
    """
    if measure.kind == "probe":
        if model is None:
            raise ValueError(f"measure {measure.label()!r} needs the batch engine's final state")
        return _probe(measure, model, b), False
    if measure.kind == "summary":
        return _resilience(measure, frame)
    x = sum(frame[c].to_numpy(dtype=float) for c in measure.columns)
    for c in measure.minus:
        x = x - frame[c].to_numpy(dtype=float)
    steps = frame["step"].to_numpy()
    if measure.stat == "final":
        return float(x[-1]), False
    if measure.stat == "change":
        return float(x[-1] - x[0]), False
    if measure.stat == "at":
        hit = np.flatnonzero(steps == measure.step)
        return (float(x[hit[0]]) if hit.size else math.nan), False
    if measure.window is not None:
        x = x[(steps >= measure.window[0]) & (steps <= measure.window[1])]
    if x.size == 0:
        return math.nan, False
    return float({"mean": np.mean, "min": np.min, "max": np.max}[measure.stat](x)), False


def _resilience(measure: Measure, frame: pd.DataFrame) -> tuple[float, bool]:
    from civsim.metrics import resilience

    index = frame["outcome_index"].to_numpy(dtype=float)
    shocks = resilience(index, frame["shock"].to_numpy(dtype=float))
    if not shocks:
        return math.nan, False
    first = shocks[0]
    if measure.summary == "shock_dip":
        return float(first["dip"]), False
    if measure.summary == "shock_recovery_months":
        if first["recovery_months"] is None:
            return float(len(index) - first["step"]), True
        return float(first["recovery_months"]), False
    s = first["step"]
    trough = s + int(np.argmin(index[s:]))
    dip = first["dip"]
    if dip <= 0:
        return math.nan, False
    later = index[min(trough + measure.months, len(index) - 1)]
    return float((later - index[trough]) / dip), False


def _probe(measure: Measure, model: Any, b: int) -> float:
    w = np.asarray(model.council["weights"][b], dtype=float)
    if measure.probe == "council_weight":
        return float(sum(w[model.domains.index(d)] for d in measure.domains))
    return agenda_pull(model)[b]


def agenda_pull(model: Any) -> np.ndarray:
    """Council weight on the live networks' focus domains relative to a uniform agenda (1 = no pull).

    :math:`K \\sum_k w_k \\phi_k`, with :math:`\\phi` the member-weighted
    distribution of the live networks' focus domains in each run; NaN for a
    run without network members.

    Parameters
    ----------
    model : BatchModel
        The batch core after its run.

    Returns
    -------
    ndarray, shape (B,)
    """
    w = np.asarray(model.council["weights"], dtype=float)
    K = w.shape[1]
    mem = model.net_members * model.alive
    out = np.full(model.B, np.nan)
    for b in range(model.B):
        phi = np.bincount(model.net_focus[b], weights=mem[b], minlength=K)
        if phi.sum() > 0:
            out[b] = K * float(w[b] @ (phi / phi.sum()))
    return out
