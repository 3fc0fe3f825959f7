"""Observed evidence shipped with civsim, and the measurement model that maps it to model outputs.

The data live in ``civsim/data/evidence.csv``, one row per observation, each
with its source, definition, years, value and the facts its observation error
is computed from (sample size, a stated design effect, rounding of the
published figure). Nothing in the file is adjusted to fit the model.

Measurement model
-----------------
Model month 0 is a calendar month, by default **April 2010** (the first month
of financial year 2010-11, where the NAO's austerity series starts); month
``m`` is ``m`` months later. A scenario that states its own start date
(``start = "YYYY-MM"``) overrides it (see :func:`scenario_start`).

- **Community Life Survey, formal volunteering at least once a month**: the
  share of adults who gave unpaid help through groups, clubs or organisations
  at least monthly over the last 12 months. Model output: ``engagement`` (the
  share of citizens engaged), averaged over the survey's fieldwork months. The
  survey asks about the previous 12 months, and fieldwork runs over 8-12
  months, so a window mean is closer to what is measured than one month.
- **NAO service spend**: real-terms spending on social care, and on all
  other services, in 2016-17 relative to 2010-11. Model outputs:
  ``budget_care`` and ``budget_services`` averaged over the months of
  2016-17, divided by their values at month 0. The austerity preset takes
  this path as an input, so these rows check the input rather than inform
  parameters. The model's budget is service spend, so the NAO's
  spending-power figure (which also funds non-service costs) is shipped for
  reference, unmapped.

Observation error of a survey share ``p`` from ``n`` respondents with design
effect ``deff``, published rounded to whole percentage points::

    sd = sqrt(deff * p * (1 - p) / n + 0.01**2 / 12)

the second term being the variance of the rounding error (uniform over one
point). Rows whose error is not a sampling error (administrative estimates)
give ``sd`` directly, with the reason in ``notes``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import pandas as pd

from civsim.errors import UserError

DEFAULT_START = "2010-04"
"""Calendar month of model month 0 when the scenario names none: April 2010."""

ROUNDING = 0.01
"""Published CLS shares are rounded to whole percentage points."""

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(text: str, where: str = "start") -> tuple[int, int]:
    """Parse ``"YYYY-MM"`` into ``(year, month)``.

    Raises
    ------
    UserError
        When the text is not a calendar month.
    """
    m = _MONTH.match(str(text))
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise UserError(f'{where} = {text!r} is not allowed: expected a month as "YYYY-MM", e.g. "2010-04"')
    return int(m.group(1)), int(m.group(2))


def month_index(date: str, start: str = DEFAULT_START) -> int:
    """Model month of a calendar month, counting ``start`` as month 0."""
    y, m = parse_month(date, "date")
    y0, m0 = parse_month(start)
    return (y - y0) * 12 + (m - m0)


def scenario_start(scenario: Any) -> str:
    """The calendar month of model month 0 for a scenario.

    Reads a ``start`` attribute when the scenario has one (calendar time in
    scenarios is being added by the model rework); otherwise
    :data:`DEFAULT_START`.
    """
    start = getattr(scenario, "start", None) or getattr(scenario, "start_date", None)
    return str(start) if start else DEFAULT_START


@cache
def load_evidence() -> pd.DataFrame:
    """The shipped evidence table (``civsim/data/evidence.csv``), indexed by ``id``."""
    with resources.files("civsim.data").joinpath("evidence.csv").open("r", encoding="utf-8") as fh:
        frame = pd.read_csv(fh)
    return frame.set_index("id", drop=False)


def observation_sd(row: pd.Series) -> float:
    """Observation error (standard deviation) of one evidence row.

    A given ``sd`` is used as is; otherwise the sampling error of a share
    from ``n`` and ``design_effect``, plus the rounding error (see module
    docstring).
    """
    if pd.notna(row.get("sd")):
        return float(row["sd"])
    p, n, deff = float(row["value"]), float(row["n"]), float(row["design_effect"])
    return math.sqrt(deff * p * (1.0 - p) / n + ROUNDING**2 / 12.0)


@dataclass(frozen=True)
class EvidenceTarget:
    """One evidence row mapped onto the model's clock.

    Attributes
    ----------
    id, series, period : str
        Row identity, the series it belongs to and its survey year.
    metric : str
        Model output compared with the value.
    step : int
        Model month of the fieldwork midpoint (for plots).
    window : tuple of int
        First and last model month averaged (the fieldwork months).
    relative_to : int or None
        When set, the output is divided by its value at this month.
    value, sd : float
        Observed value and observation error.
    source : str
        Where the figure was published.
    """

    id: str
    series: str
    period: str
    metric: str
    step: int
    window: tuple[int, int]
    relative_to: int | None
    value: float
    sd: float
    source: str


def evidence_target(evidence_id: str, start: str = DEFAULT_START, where: str = "evidence") -> EvidenceTarget:
    """Map a shipped evidence row onto model months.

    Raises
    ------
    UserError
        For an unknown id (naming the known ones) or a row with no model output.
    """
    table = load_evidence()
    if evidence_id not in table.index:
        known = ", ".join(table.index)
        raise UserError(f"{where} = {evidence_id!r} is not allowed: expected one of {known}")
    row = table.loc[evidence_id]
    if pd.isna(row["metric"]):
        raise UserError(
            f"{where} = {evidence_id!r}: this series has no model output to compare with ({row['notes']})"
        )
    a, b = month_index(row["fieldwork_start"], start), month_index(row["fieldwork_end"], start)
    rel = None if pd.isna(row["relative_to"]) else int(row["relative_to"])
    return EvidenceTarget(
        id=evidence_id,
        series=str(row["series"]),
        period=str(row["period"]),
        metric=str(row["metric"]),
        step=(a + b) // 2,
        window=(a, b),
        relative_to=rel,
        value=float(row["value"]),
        sd=round(observation_sd(row), 5),
        source=str(row["source"]),
    )


def markdown_table(start: str = DEFAULT_START) -> str:
    """The evidence as a Markdown table with model months and observation errors."""
    lines = [
        "| id | period | value | obs. sd | model output | months | checked | source |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for _, row in load_evidence().iterrows():
        sd = observation_sd(row)
        if pd.isna(row["metric"]):
            months, out = "-", "(none)"
        else:
            t = evidence_target(row["id"], start)
            months = f"{t.window[0]}-{t.window[1]}"
            out = f"`{t.metric}`" + (f" / month {t.relative_to}" if t.relative_to is not None else "")
        lines.append(
            f"| {row['id']} | {row['period']} | {row['value']:g} | {sd:.4f} | {out} | {months} | "
            f"{row['checked']} | [{row['source']}]({row['url']}) |"
        )
    return "\n".join(lines) + "\n"
