# ruff: noqa: E501  (SVG markup and sentences read better unbroken)
"""A plain-language story of a run, year by year, from the run's own data.

For each year the story says what changed (outcomes, who gained and lost,
engagement, trust, money, networks and alliances), what happened (shocks and
the trainer's interventions) and why, naming the model's mechanisms that the
data show at work: cuts lower trust and are taken from coordination first,
trust and co-production reinforce each other, networks spread engagement,
alliances shift the agenda, the excluded are not heard.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from civsim.app.live import INTERVENTION_LABELS
from civsim.metrics import resilience

STEADY = 0.002
"""Changes of the outcome index smaller than this (0.2 points) count as holding steady."""


@dataclass
class YearStory:
    year: int
    partial: bool
    headline: str
    sentences: list[str] = field(default_factory=list)
    why: list[str] = field(default_factory=list)

    def text(self) -> str:
        return " ".join([self.headline, *self.sentences, *self.why])


def _pts(x: float) -> str:
    """A change of an index in points (hundredths)."""
    return f"{100 * x:+.1f} points"


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _move(
    before: float, after: float, tol: float, up: str = "rose", down: str = "fell", flat: str = "held steady"
) -> str:
    d = after - before
    if abs(d) < tol:
        return flat
    return up if d > 0 else down


def describe_intervention(month: int, name: str, value: float) -> str:
    what = {
        "cut_budget": f"the council's budget was cut by {_pct(value)}",
        "shock_economic": f"an economic shock of size {value:.2f} hit every neighbourhood",
        "shock_environmental": f"an environmental shock of size {value:.2f} hit every neighbourhood",
        "convene": f"the council began spending {_pct(value)} of its budget convening partnerships",
        "fund_networks": f"the council began granting {_pct(value)} of its budget to citizen networks",
        "open_coproduction": f"agencies were opened to co-production (openness {value:.2f})",
    }.get(name, f"{INTERVENTION_LABELS.get(name, name)} ({value:g})")
    return f"In month {month}, {what}."


def narrate(
    frame: pd.DataFrame,
    interventions: Sequence[tuple[int, str, float]] = (),
    domains: Sequence[str] = (),
    groups: Sequence[str] = ("majority", "marginalised"),
) -> list[YearStory]:
    """The story of one run (rows ordered by step, row 0 = the start), oldest year first."""
    f = frame.sort_values("step").reset_index(drop=True)
    if len(f) < 2:
        return []
    last = int(f["step"].iloc[-1])
    by_step = f.set_index("step")
    ends = list(range(12, last + 1, 12))
    if last % 12:
        ends.append(last)
    shocks = resilience(f["outcome_index"].to_numpy(), f["shock"].to_numpy()) if "shock" in f else []
    steps = f["step"].to_numpy()
    stories = []
    for end in ends:
        start = 12 * ((end - 1) // 12)
        year = start // 12 + 1
        a, b = by_step.loc[start], by_step.loc[end]
        partial = end % 12 != 0
        span = "so far" if partial else ""
        d_idx = b["outcome_index"] - a["outcome_index"]
        verb = _move(a["outcome_index"], b["outcome_index"], STEADY, "improved", "fell")
        headline = (
            f"Year {year}{' ' + span if span else ''}: outcomes {verb} — the valued-outcome index went from "
            f"{a['outcome_index']:.3f} to {b['outcome_index']:.3f} ({_pts(d_idx)})."
        )
        story = YearStory(year=year, partial=partial, headline=headline)
        s, why = story.sentences, story.why

        # domains
        if domains:
            ch = {d: b[f"outcome_{d}"] - a[f"outcome_{d}"] for d in domains if f"outcome_{d}" in b}
            if ch:
                best = max(ch, key=ch.get)
                worst = min(ch, key=ch.get)
                parts = []
                if ch[best] > STEADY:
                    parts.append(f"the biggest gain was in {best} ({_pts(ch[best])})")
                if ch[worst] < -STEADY:
                    parts.append(f"the biggest loss was in {worst} ({_pts(ch[worst])})")
                if parts:
                    s.append(
                        parts[0][0].upper() + parts[0][1:] + ("; " + parts[1] if len(parts) > 1 else "") + "."
                    )

        # events
        for month, name, value in interventions:
            if start <= month < end or (month == end and partial):
                s.append(describe_intervention(month, name, value))
        for sh in shocks:
            if start < sh["step"] <= end:
                rec = sh["recovery_months"]
                after = (
                    f"it recovered after {rec} months"
                    if rec is not None and sh["step"] + rec <= last
                    else "it has not recovered yet"
                )
                # a shock in the row for step t happened during month t - 1 -> t
                s.append(
                    f"A shock in month {sh['step'] - 1} pulled the index down by {_pts(sh['dip']).lstrip('+')}; {after}."
                )

        # groups
        if "inclusion_gap" in b and len(groups) >= 2:
            g0, g1 = groups[0], groups[1]
            gap_verb = _move(a["inclusion_gap"], b["inclusion_gap"], STEADY, "widened", "narrowed", "stayed")
            s.append(
                f"The gap between {g0} and {g1} residents {gap_verb} ({a['inclusion_gap']:.3f} → {b['inclusion_gap']:.3f})."
            )
        # engagement and trust
        e_verb = _move(a["engagement"], b["engagement"], 0.005)
        t_verb = _move(a["trust"], b["trust"], 0.005)
        s.append(
            f"Engagement {e_verb} ({_pct(a['engagement'])} → {_pct(b['engagement'])}) and trust {t_verb} "
            f"({a['trust']:.2f} → {b['trust']:.2f})."
        )
        # money
        d_budget = b["budget"] / a["budget"] - 1 if a["budget"] > 0 else 0.0
        if abs(d_budget) >= 0.005:
            s.append(
                f"The council's budget {'fell' if d_budget < 0 else 'rose'} {abs(100 * d_budget):.1f}% "
                f"({a['budget']:.2f} → {b['budget']:.2f})."
            )
        # networks, alliances, coordination
        s.append(
            f"Citizen networks: {int(a['networks'])} → {int(b['networks'])}; alliance ties: {int(a['alliances'])} → "
            f"{int(b['alliances'])}; agency coordination density {a['coordination_density']:.2f} → "
            f"{b['coordination_density']:.2f}."
        )

        # why: mechanisms the data show at work this year
        cut = d_budget <= -0.01
        if cut and b["trust"] < a["trust"] - 0.005:
            why.append(
                "Why: cuts lower trust — citizens judge institutions partly by whether the money is still there."
            )
        if cut and b["coordination_density"] < a["coordination_density"] - 0.005:
            why.append(
                "Under budget pressure, agencies dropped coordination ties first, so joined-up delivery shrank."
            )
        if b["trust"] > a["trust"] + 0.005 and b["engagement"] > a["engagement"] + 0.005:
            why.append(
                "Trust and engagement rose together: co-production builds trust and trust draws more people in (a reinforcing loop)."
            )
        elif b["trust"] < a["trust"] - 0.005 and b["engagement"] < a["engagement"] - 0.005:
            why.append(
                "Trust and engagement fell together: the same reinforcing loop is running the vicious way."
            )
        if b["networks"] > a["networks"] and b["engagement"] > a["engagement"]:
            why.append("New citizen networks pulled members in, and engagement spread through their ties.")
        if b["alliances"] > a["alliances"]:
            why.append(
                f"More actors allied (largest alliance {int(b['largest_alliance'])}); past the influence threshold "
                "allies shift the council's agenda toward their members' priorities."
            )
        if len(groups) >= 2 and b["inclusion_gap"] > a["inclusion_gap"] + STEADY:
            e0, e1 = f"engagement_{groups[0]}", f"engagement_{groups[1]}"
            if e0 in b and e1 in b and b[e1] < b[e0]:
                why.append(
                    f"{groups[1].capitalize()} residents are less engaged ({_pct(b[e1])} vs {_pct(b[e0])}), "
                    "so their needs carry less weight when the council sets its priorities."
                )
        if cut and d_idx > STEADY:
            why.append(
                "Outcomes rose despite the cuts: co-production and networks made up part of the lost delivery."
            )
        elif cut and d_idx < -STEADY:
            why.append(
                "With less money, agencies delivered less and outcomes slid toward the pressured baseline."
            )
        had_shock = (
            bool(((steps > start) & (steps <= end) & (f["shock"].to_numpy() > 0)).any())
            if "shock" in f
            else False
        )
        if had_shock and d_idx < -STEADY:
            why.append(
                "The shock explains much of the fall; engaged neighbourhoods and alliances speed recovery (mutual aid)."
            )
        stories.append(story)
    return stories
