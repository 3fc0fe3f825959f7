"""One room's locality: the running model, the rounds played, the story, the debrief.

A :class:`Game` is not thread-safe on its own; :mod:`civsim.rooms.registry`
serialises access to it. A round is one model year on the batch core
(:class:`civsim.batch.BatchModel`, one run): the seats' choices become
:class:`~civsim.rooms.plan.Change` records applied before the year's first
month, then the model steps twelve months.

Whose decisions mattered is measured, not guessed: for each seat that changed
something, the year is run again from the same state and the same random
stream without that seat's changes; the seat's effect is the difference at
the year's end (common random numbers, so the difference is the decisions'
doing, not chance).
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from civsim import seeding
from civsim.batch import BatchModel
from civsim.metrics import group_names
from civsim.params import SCHEMA, resolve
from civsim.rooms import choices as ch
from civsim.rooms.decisions_file import decisions_toml
from civsim.rooms.plan import Change, Decision, Plan, apply_due
from civsim.rooms.seats import Seat, levers, seat_choices
from civsim.scenario import Scenario, scenario_to_toml

MONTHS = 12
ROOM_CITIZENS = 1500
"""Citizens in a room's locality when the story does not set ``n_citizens`` (a year runs in ~0.02 s);
a story's own value is kept up to :data:`MAX_ROOM_CITIZENS`. The export records the value used."""
MAX_ROOM_CITIZENS = 5000
MATTERS = 0.001
"""An effect smaller than this on the outcome index or the gap (0.1 points) 'made little difference'."""


@dataclass
class RoundRecord:
    """What happened in one round (one year)."""

    round: int
    month: int
    choices: dict[str, dict[str, Any]]
    changes: list[Change]
    effects: dict[str, tuple[float, float]]  # seat id -> (d outcome index, d inclusion gap)
    changed: dict[str, dict[str, Any]] = field(default_factory=dict)  # choices that moved a standing value
    ran_at: float = 0.0  # wall-clock time the year (and its story) was done, for latency figures
    story: list[str] = field(default_factory=list)


class Game:
    """The locality of a room and everything played in it.

    Parameters
    ----------
    scenario : Scenario
        The story (a preset or an uploaded, validated scenario).
    seats : list of Seat
        Seats offered (see :func:`civsim.rooms.seats.make_seats`).
    rounds : int
        Years to play.
    """

    def __init__(self, scenario: Scenario, seats: list[Seat], rounds: int):
        overrides = dict(scenario.params)
        overrides["n_citizens"] = min(int(overrides.get("n_citizens", ROOM_CITIZENS)), MAX_ROOM_CITIZENS)
        self.scenario = scenario
        self.overrides = overrides
        self.params = resolve(overrides)
        self.seed = int(scenario.seed)
        self.seats = list(seats)
        self.n_rounds = int(rounds)
        self.model = BatchModel([self.params], [seeding.run_sequence(self.seed)])
        m = self.model
        self.locality = ch.Locality(tuple(m.domains), m.dims.A, m.dims.M, m.remit[0].copy())
        self.standing: dict[str, dict[str, Any]] = {s.id: self._initial(s) for s in self.seats}
        self.rounds: list[RoundRecord] = []
        self.decisions: list[Decision] = []
        self.changes: list[Change] = []

    # ------------------------------------------------------------------
    def _initial(self, seat: Seat) -> dict[str, Any]:
        out: dict[str, Any] = {c.name: ch.initial(c.name) for c in seat_choices(seat.kind)}
        for lv in levers(seat.kind):
            if lv.scope == "portfolio" and seat.agencies:
                out[lv.param] = round(float(self.model.openness[0, list(seat.agencies)].mean()), 2)
            else:
                out[lv.param] = float(self.params[lv.param])
        return out

    def seat(self, seat_id: str) -> Seat:
        for s in self.seats:
            if s.id == seat_id:
                return s
        raise KeyError(seat_id)

    @property
    def round_no(self) -> int:
        """The round being decided now (1-based)."""
        return len(self.rounds) + 1

    @property
    def finished(self) -> bool:
        return len(self.rounds) >= self.n_rounds

    def changes_for(
        self, before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]], month: int
    ) -> list[Change]:
        """The changes the model gets when standing choices move from ``before`` to ``after``.

        A seat's choices act only for its own agencies or its own neighbourhoods' networks.
        """
        out: list[Change] = []
        shared_done: set[tuple[str, str]] = set()
        for s in self.seats:
            for c in seat_choices(s.kind):
                a = after[s.id][c.name]
                if a != before[s.id][c.name]:
                    out.append(
                        Change(
                            month, c.name, seat=s.id, **ch.change_fields(s, c.name, a, self.locality.domains)
                        )
                    )
            for lv in levers(s.kind):
                b, a = before[s.id][lv.param], after[s.id][lv.param]
                if lv.scope == "shared":
                    if (s.kind, lv.param) in shared_done:
                        continue
                    shared_done.add((s.kind, lv.param))
                    group = [t for t in self.seats if t.kind == s.kind]
                    mb = float(np.mean([before[t.id][lv.param] for t in group]))
                    ma = float(np.mean([after[t.id][lv.param] for t in group]))
                    movers = [t.id for t in group if before[t.id][lv.param] != after[t.id][lv.param]]
                    if movers and ma != mb:
                        spec = SCHEMA[lv.param]  # the mean of values in range, kept in range despite rounding
                        value = float(spec.coerce(min(max(ma, spec.min), spec.max)))
                        out.append(Change(month, lv.param, value, (), "+".join(movers)))
                elif a != b:
                    agencies = s.agencies if lv.scope == "portfolio" else ()
                    out.append(Change(month, lv.param, a, agencies, s.id))
        return out

    # ------------------------------------------------------------------
    def play_round(self, choices: dict[str, dict[str, Any]]) -> RoundRecord:
        """Apply this round's choices (validated by the caller) and run one year.

        ``choices`` maps seat id to that seat's values for some of its levers;
        seats not in it keep their standing choices.
        """
        if self.finished:
            raise ValueError("every round has been played")
        r, month = self.round_no, int(self.model.month)
        before = {k: dict(v) for k, v in self.standing.items()}
        after = {k: dict(v) for k, v in self.standing.items()}
        for sid, vals in choices.items():
            after[sid].update(vals)
            for lever, value in vals.items():
                value = value if lever in ch.CHOICES else float(value)
                self.decisions.append(Decision(r, month, sid, lever, value))
        changes = self.changes_for(before, after, month)
        movers = sorted({sid for sid in choices if after[sid] != before[sid]})
        start = copy.deepcopy(self.model) if movers else None
        apply_due(self.model, changes)
        self.model.run(MONTHS)
        end = self._end_metrics(self.model)
        effects: dict[str, tuple[float, float]] = {}
        for sid in movers:
            alt = {k: dict(v) for k, v in after.items()}
            alt[sid] = dict(before[sid])
            m = copy.deepcopy(start)
            apply_due(m, self.changes_for(before, alt, month))
            m.run(MONTHS)
            other = self._end_metrics(m)
            effects[sid] = (end[0] - other[0], end[1] - other[1])
        self.standing = after
        self.changes.extend(changes)
        changed = {
            sid: {k: v for k, v in vals.items() if before[sid][k] != v} for sid, vals in choices.items()
        }
        rec = RoundRecord(
            r,
            month,
            {k: dict(v) for k, v in choices.items()},
            changes,
            effects,
            {k: v for k, v in changed.items() if v},
        )
        rec.story = self._story(rec)
        rec.ran_at = time.time()
        self.rounds.append(rec)
        return rec

    @staticmethod
    def _end_metrics(model: BatchModel) -> tuple[float, float]:
        f = model.frame()
        last = f[f["run"] == 0].iloc[-1]
        return float(last["outcome_index"]), float(last["inclusion_gap"])

    def _story(self, rec: RoundRecord) -> list[str]:
        from civsim.app.narrative import narrate  # the app's storyteller, read-only reuse

        f = self.frame()
        a = f[f["step"] == rec.month].iloc[0]
        b = f[f["step"] == rec.month + MONTHS].iloc[0]
        d = b["outcome_index"] - a["outcome_index"]
        lines = [
            f"Year {rec.round}: the valued-outcome index went from {a['outcome_index']:.3f} to "
            f"{b['outcome_index']:.3f} ({100 * d:+.1f} points); the inclusion gap from "
            f"{a['inclusion_gap']:.3f} to {b['inclusion_gap']:.3f}."
        ]
        mattered, little = [], []
        for sid, (di, dg) in sorted(rec.effects.items(), key=lambda kv: -abs(kv[1][0]) - abs(kv[1][1])):
            title = self.seat(sid).title
            kind = self.seat(sid).kind
            what = ", ".join(
                f"{_label(kind, k)}{':' if k in ch.CHOICES else ''} {ch.describe(k, v)}"
                for k, v in rec.changed.get(sid, {}).items()
            )
            if abs(di) >= MATTERS or abs(dg) >= MATTERS:
                gap = "narrowed" if dg < 0 else "widened"
                mattered.append(
                    f"{title} ({what}): {100 * di:+.1f} points on the outcome index, and the gap "
                    f"{gap} by {100 * abs(dg):.1f} points, compared with the same year without these choices"
                )
            else:
                little.append(f"{title} ({what})" if what else title)
        if mattered:
            lines.append("Whose decisions mattered: " + "; ".join(mattered) + ".")
        if little:
            lines.append(
                "Made little difference this year (effects can take longer): " + ", ".join(little) + "."
            )
        if not rec.effects:
            lines.append("No seat changed anything this year: the locality ran on its standing choices.")
        stories = narrate(f, self.model.interventions, self.model.domains, group_names(self.model.dims.G))
        if len(stories) >= rec.round:
            s = stories[rec.round - 1]
            lines.extend(s.sentences[:1] + s.sentences[-3:-1] + s.why[:2])
        return lines

    @property
    def group_names(self) -> list[str]:
        return group_names(self.model.dims.G)

    def seat_facts(self, seat: Seat) -> list[tuple[str, str]]:
        """What a seat sees of its own part of the locality, as (label, value) pairs."""
        m = self.model
        f = self.frame().iloc[-1]
        domains = list(m.domains)
        w = m.council["weights"][0]
        top = ", ".join(domains[i] for i in np.argsort(-w)[:3])
        groups = self.group_names
        if seat.kind == "council":
            return [
                ("Council budget now", f"{float(m.council['budget'][0]):.3f} per citizen a year"),
                (
                    "Convening / grants",
                    f"{100 * float(m.P['convening_funds'][0]):.0f}% / "
                    f"{100 * float(m.P['network_grants'][0]):.0f}%",
                ),
                ("Outcomes-based commissioning", f"{float(m.P['commissioning_outcomes'][0]):.2f}"),
                ("Outcome index (your framework)", f"{f['outcome_index_council']:.3f}"),
                ("Your agenda's top priorities", top),
            ]
        mine_now = self.standing.get(seat.id, {})
        if seat.kind == "agency":
            idx = list(seat.agencies)
            coord = m.coord[0]
            partners = sorted({int(b) + 1 for a in idx for b in np.flatnonzero(coord[a]) if b not in idx})
            remit = m.remit[0][idx].sum(axis=0)
            mine = [domains[i] for i in np.argsort(-remit)[:3] if remit[i] > 0]
            return [
                ("Your agencies", ", ".join(str(a + 1) for a in idx)),
                ("Their budget", _budget(float(m.agencies["budget"][0][idx].sum()))),
                ("Their openness to co-production", f"{float(m.openness[0][idx].mean()):.2f}"),
                ("Coordination partners", ", ".join(f"agency {b}" for b in partners) or "none yet"),
                ("Partners you named", ch.describe(ch.AGENCY_PARTNERS, mine_now.get(ch.AGENCY_PARTNERS, ()))),
                ("Effort focus", ch.describe(ch.AGENCY_FOCUS, mine_now.get(ch.AGENCY_FOCUS, ""))),
                ("Your remit", ", ".join(f"{d} {f[f'outcome_{d}']:.2f}" for d in mine)),
            ]
        if seat.kind == "network":
            own = np.isin(m.net_hood, list(seat.hoods)) & m.alive[0]
            focus = sorted({domains[int(k)] for k in m.net_focus[0][own]})
            return [
                ("Your neighbourhoods", ", ".join(str(h + 1) for h in seat.hoods) or "none"),
                ("Your networks campaign on", ", ".join(focus) or "no network yet"),
                ("Allies you named", ch.describe(ch.NETWORK_ALLIES, mine_now.get(ch.NETWORK_ALLIES, ()))),
                ("Citizen networks", f"{int(f['networks'])} with {int(f['network_members'])} members"),
                ("Alliance ties", f"{int(f['alliances'])} (largest alliance {int(f['largest_alliance'])})"),
                ("Engagement", ", ".join(f"{g} {100 * f[f'engagement_{g}']:.0f}%" for g in groups)),
                ("Trust in institutions", f"{f['trust']:.2f}"),
            ]
        if seat.kind == "panel":
            return [
                ("Outcomes by group", ", ".join(f"{g} {f[f'outcome_index_{g}']:.3f}" for g in groups)),
                ("Inclusion gap", f"{f['inclusion_gap']:.3f}"),
                ("Engagement by group", ", ".join(f"{g} {100 * f[f'engagement_{g}']:.0f}%" for g in groups)),
                ("The council's top priorities", top),
            ]
        return []

    # ------------------------------------------------------------------
    def frame(self) -> pd.DataFrame:
        """The session's series so far (one row per month)."""
        f = self.model.frame()
        return f[f["run"] == 0].drop(columns="run").reset_index(drop=True)

    def replay(self, n_seeds: int = 8) -> dict[str, Any]:
        """The same decisions with other seeds, and the same locality with no one deciding.

        Runs ``n_seeds + 1`` seeds (the session's own first) twice on the batch
        core: with the session's changes and without any. Returns the frames
        and, per seed, the outcome index and gap at the end.
        """
        months = int(self.model.month)
        seqs = [seeding.run_sequence(self.seed)] + [
            seeding.run_sequence(self.seed, (r,)) for r in range(1, n_seeds + 1)
        ]
        plan = Plan(self.changes)
        decided = BatchModel([self.params] * len(seqs), seqs)
        nobody = BatchModel([self.params] * len(seqs), seqs)
        for _ in range(months):
            plan(decided)
            decided.step()
            nobody.step()
        fd, fn = decided.frame(), nobody.frame()
        end_d = fd[fd["step"] == months].set_index("run")
        end_n = fn[fn["step"] == months].set_index("run")
        diff = (end_d["outcome_index"] - end_n["outcome_index"]).to_numpy()
        gap = (end_d["inclusion_gap"] - end_n["inclusion_gap"]).to_numpy()
        return {
            "months": months,
            "decided": fd,
            "nobody": fn,
            "end_decided": end_d["outcome_index"].to_numpy(),
            "end_nobody": end_n["outcome_index"].to_numpy(),
            "gain": diff,
            "gap_change": gap,
            "session_rank": int((end_d["outcome_index"].to_numpy() < end_d["outcome_index"].iloc[0]).sum()),
        }

    def export(self, name: str) -> dict[str, str]:
        """Files that reproduce the session: ``scenario.toml``, ``decisions.toml``, ``timeseries.csv``.

        ``civsim run scenario.toml --decisions decisions.toml --engine batch``
        writes the same ``timeseries.csv``.
        """
        months = max(int(self.model.month), 1)
        desc = f"Workshop room session on '{self.scenario.name}': {self.scenario.description}"
        toml = scenario_to_toml(name, desc, self.overrides, self.seed, months)
        dec = decisions_toml(
            [(s.id, s.title) for s in self.seats],
            self.decisions,
            self.changes,
            note=f"{len(self.rounds)} rounds on {self.scenario.name}, seed {self.seed}",
            domains=tuple(self.model.domains),
        )
        return {
            "scenario.toml": toml,
            "decisions.toml": dec,
            "timeseries.csv": self.frame().to_csv(index=False),
        }


def _label(kind: str, param: str) -> str:
    for lv in levers(kind):
        if lv.param == param:
            return lv.label.split(" (")[0].lower()
    if param in ch.CHOICES:
        return ch.CHOICES[param].label.lower()
    return param


__all__ = ["Game", "RoundRecord", "MONTHS", "ROOM_CITIZENS"]


def _budget(x: float) -> str:
    return f"{x:.3f} per citizen a year" if x > 0 else "set when the first year starts"
