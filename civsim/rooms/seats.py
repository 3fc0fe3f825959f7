"""Seats of a workshop room and the model levers each one moves.

:data:`SEAT_KINDS` is the one table mapping a seat to the model's own
parameters (names, ranges and help text come from :data:`civsim.params.SCHEMA`,
never restated here). A lever's *scope* says how choices of several seats
combine into what the model gets:

``own``
    one seat holds it (the council leader, the citizens' panel);
``shared``
    every seat of the kind holds a vote, the model gets the mean of their
    standing choices (agency heads on coordination, organisers on alliances);
``portfolio``
    applied only to the seat's own agencies (openness of the agencies an
    agency head runs; the model keeps one openness per agency).

A lever whose name is missing from SCHEMA (the model is being reworked) is
left out of its seat and listed in :func:`unavailable_levers`.

Besides these schema levers, agency heads and network organisers make
*choices* that are model state rather than parameters (named partners,
focus, campaign, named allies: :mod:`civsim.rooms.choices`); a seat acts
only for its own agencies (``Seat.agencies``) or the networks of its own
neighbourhoods (``Seat.hoods``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from civsim.params import SCHEMA, ParamError
from civsim.rooms import choices as ch
from civsim.world import SECTOR_PATTERN, SECTORS

MIN_AGENCY_SEATS, MAX_AGENCY_SEATS = 2, 6
MAX_NETWORK_SEATS = 3


@dataclass(frozen=True)
class Lever:
    """One decision a seat makes: a schema parameter, a label, and what it costs."""

    param: str
    label: str
    scope: str  # "own", "shared" or "portfolio"
    cost: Callable[[Mapping[str, float], float], str]

    @property
    def spec(self):
        return SCHEMA[self.param]


def _money(name: str) -> Callable[[Mapping[str, float], float], str]:
    def cost(p: Mapping[str, float], budget: float) -> str:
        v = float(p.get(name, SCHEMA[name].default))
        return (
            f"Paid from the service budget: now {100 * v:.0f}% = {v * budget:.3f} per citizen a year "
            f"(budget {budget:.2f}); every point moved here is a point less for services."
        )

    return cost


def _text(s: str) -> Callable[[Mapping[str, float], float], str]:
    return lambda p, budget: s


@dataclass(frozen=True)
class SeatKind:
    """A kind of seat: its title, what it speaks for, its levers and choices, and what it cannot do."""

    kind: str
    title: str
    role: str
    levers: tuple[Lever, ...]
    not_yet: str = ""
    choices: tuple[str, ...] = ()  # names in civsim.rooms.choices.CHOICES


SEAT_KINDS: dict[str, SeatKind] = {
    "council": SeatKind(
        "council",
        "Council leader",
        "Splits the council's budget between services, convening partnerships, grants to citizen "
        "networks and outreach, and decides how agencies are commissioned.",
        (
            Lever("convening_funds", "Convening partnerships", "own", _money("convening_funds")),
            Lever("network_grants", "Grants to citizen networks", "own", _money("network_grants")),
            Lever(
                "outreach",
                "Inclusive outreach",
                "own",
                _text(
                    "The model does not charge outreach to the budget (a simplification): it lowers "
                    "the participation barrier and contacts disengaged residents."
                ),
            ),
            Lever(
                "commissioning_outcomes",
                "Outcomes-based commissioning",
                "own",
                _text(
                    "No money: commissions move from historic departmental shares toward weighted "
                    "need, so some agencies lose budget to others."
                ),
            ),
        ),
    ),
    "agency": SeatKind(
        "agency",
        "Agency head",
        "Runs a group of agencies of one sector: how open they are to co-production, how willing "
        "they are to coordinate, which agencies they partner with and where they put their effort.",
        (
            Lever(
                "coproduction_openness",
                "Openness of your agencies to co-production",
                "portfolio",
                _text(
                    "No money: openness pays off where residents engage and trust is high, and "
                    "outcomes-based commissioning with social value rewards it."
                ),
            ),
        ),
        choices=(ch.AGENCY_PARTNERS, ch.AGENCY_FOCUS),
    ),
    "network": SeatKind(
        "network",
        "Network organiser",
        "Organises the citizen networks of some neighbourhoods: what they campaign for, whom they "
        "name as allies, how readily they ally and how hard they recruit.",
        (
            Lever(
                "alliance_propensity",
                "Readiness to ally (all organisers vote)",
                "shared",
                _text(
                    "No money: allies pool resources with synergy and, past the influence "
                    "threshold, shift the council's agenda; ties lapse unless renewed."
                ),
            ),
            Lever(
                "join_rate",
                "Recruitment drive (all organisers vote)",
                "shared",
                _text("Members' time: each member adds dues to the network and can burn out."),
            ),
        ),
        choices=(ch.NETWORK_FOCUS, ch.NETWORK_ALLIES),
    ),
    "panel": SeatKind(
        "panel",
        "Citizens' panel",
        "Speaks for residents: how much their voice weighs when the council sets priorities, and "
        "whether services follow need or head count.",
        (
            Lever(
                "voice_weight",
                "Weight of residents' voice in the agenda",
                "own",
                _text(
                    "No money: the weight is taken from the council's own view; only engaged "
                    "residents are heard, so it helps those who take part."
                ),
            ),
            Lever(
                "needs_targeting",
                "Services allocated by need",
                "own",
                _text("No money: delivery moves from head count to need, so better-off areas get less."),
            ),
        ),
        not_yet=(
            "Naming the domains residents put first is not a lever: the model derives residents' "
            "priorities from the gaps they live with."
        ),
    ),
    "observer": SeatKind(
        "observer",
        "Observer",
        "Watches the whole locality and takes notes for the debrief; makes no decisions.",
        (),
    ),
}
"""The seat -> lever table (the only place it is written)."""


def levers(kind: str) -> tuple[Lever, ...]:
    """The levers of a seat kind that exist in the current schema."""
    return tuple(lv for lv in SEAT_KINDS[kind].levers if lv.param in SCHEMA)


def seat_choices(kind: str) -> tuple[ch.Choice, ...]:
    """The choices (not schema levers) of a seat kind."""
    return tuple(ch.CHOICES[n] for n in SEAT_KINDS[kind].choices)


def unavailable_levers() -> list[str]:
    """Levers named in :data:`SEAT_KINDS` that the current schema lacks."""
    return [lv.param for k in SEAT_KINDS.values() for lv in k.levers if lv.param not in SCHEMA]


@dataclass(frozen=True)
class Seat:
    """One seat in a room: ``id`` is unique in the room (e.g. ``agency-2``)."""

    id: str
    kind: str
    title: str
    agencies: tuple[int, ...] = ()
    hoods: tuple[int, ...] = ()  # a network organiser's neighbourhoods (0-based)

    @property
    def decides(self) -> bool:
        return bool(levers(self.kind) or seat_choices(self.kind))


def _sector_portfolios(n_seats: int, sectors: list[int]) -> list[tuple[str, tuple[int, ...]]]:
    """Split agencies into ``n_seats`` portfolios by sector.

    2 seats: public / others; 3: public / NGO + voluntary / business; 4: one per
    sector; 5 and 6: the public bodies (half of all agencies) are split in 2 or 3.
    """
    by = {s: [a for a, x in enumerate(sectors) if x == s] for s in range(len(SECTORS))}
    pub, ngo, vol, bus = (tuple(by.get(i, [])) for i in range(4))
    if n_seats == 2:
        groups = [("public bodies", pub), ("NGOs, voluntary groups and businesses", ngo + vol + bus)]
    elif n_seats == 3:
        groups = [("public bodies", pub), ("NGOs and voluntary groups", ngo + vol), ("businesses", bus)]
    else:
        parts = n_seats - 3
        split = [tuple(pub[i::parts]) for i in range(parts)]
        groups = [
            (f"public bodies ({chr(65 + i)})" if parts > 1 else "public bodies", p)
            for i, p in enumerate(split)
        ]
        groups += [("NGOs", ngo), ("voluntary groups", vol), ("businesses", bus)]
    return [(name, tuple(sorted(g))) for name, g in groups if g]


def make_seats(offer: Mapping[str, int], n_agencies: int, n_hoods: int = 0) -> list[Seat]:
    """The seats a room offers.

    Parameters
    ----------
    offer : mapping
        Counts per kind: ``council`` (0-1), ``agency`` (0 or 2-6), ``network``
        (0-3), ``panel`` (0-1). Observers are not seats: any number may watch.
    n_agencies : int
        Agencies in the model; agency seats split them by sector.
    n_hoods : int
        Neighbourhoods in the model; network organisers split them in turn
        (organiser i of n: neighbourhoods i, i + n, ...).

    Raises
    ------
    ParamError
        With one line naming the kind, the count and what is allowed.
    """
    limits = {
        "council": (0, 1),
        "agency": (0, MAX_AGENCY_SEATS),
        "network": (0, MAX_NETWORK_SEATS),
        "panel": (0, 1),
    }
    for k in offer:
        if k not in limits:
            raise ParamError(f"seat kind {k!r} is not allowed: expected one of {', '.join(limits)}")
    counts = {}
    for k, (lo, hi) in limits.items():
        n = offer.get(k, 0)
        if isinstance(n, bool) or not isinstance(n, int) or not lo <= n <= hi:
            raise ParamError(f"{k} seats = {n!r} is not allowed: expected an integer in [{lo}, {hi}]")
        counts[k] = n
    if counts["agency"] == 1:
        raise ParamError(
            f"agency seats = 1 is not allowed: expected 0 or {MIN_AGENCY_SEATS} to {MAX_AGENCY_SEATS}"
        )
    if not any(counts.values()):
        raise ParamError("a room needs at least one seat that decides")
    seats: list[Seat] = []
    if counts["council"]:
        seats.append(Seat("council", "council", SEAT_KINDS["council"].title))
    if counts["agency"]:
        sectors = [SECTOR_PATTERN[a % len(SECTOR_PATTERN)] for a in range(n_agencies)]
        for i, (name, group) in enumerate(_sector_portfolios(counts["agency"], sectors)):
            seats.append(Seat(f"agency-{i + 1}", "agency", f"Agency head: {name}", group))
    n_net = counts["network"]
    for i in range(n_net):
        hoods = tuple(range(i, n_hoods, n_net))
        where = f": neighbourhood{'s' if len(hoods) > 1 else ''} {', '.join(str(m + 1) for m in hoods)}"
        title = "Network organiser" + (where if hoods else "")
        seats.append(Seat(f"network-{i + 1}", "network", title, (), hoods))
    if counts["panel"]:
        seats.append(Seat("panel", "panel", SEAT_KINDS["panel"].title))
    return seats


def validate_choice(
    seat: Seat, values: Mapping[str, Any], locality: ch.Locality | None = None
) -> dict[str, Any]:
    """Check a seat's decision and return it normalised (floats for schema levers).

    Only the seat's own levers and choices are accepted; each lever's value
    is checked with the schema's range (``Param.coerce``), each choice with
    :func:`civsim.rooms.choices.validate` against ``locality``.

    Raises
    ------
    ParamError
        One line naming the seat, the key, the value and what is allowed.
    """
    allowed: dict[str, Any] = {lv.param: lv for lv in levers(seat.kind)}
    allowed.update({c.name: c for c in seat_choices(seat.kind)})
    if not allowed:
        raise ParamError(f"the {seat.title} seat makes no decisions")
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key not in allowed:
            raise ParamError(
                f"{str(seat.title)} cannot set {str(key)[:40]!r}: this seat's levers are {', '.join(allowed)}"
            )
        if key in ch.CHOICES:
            if locality is None:
                raise ParamError(f"{key} needs the room's locality to be checked")
            out[key] = ch.validate(seat, key, value, locality)
            continue
        if isinstance(value, float) and not math.isfinite(value):
            raise ParamError(f"{key} = {value!r} is not allowed: expected {SCHEMA[key].allowed()}")
        out[key] = float(SCHEMA[key].coerce(value))
    return out


@dataclass
class Standing:
    """Each seat's standing choice per lever: what the model runs with until the seat changes it."""

    values: dict[str, dict[str, Any]] = field(default_factory=dict)

    def copy(self) -> Standing:
        return Standing({k: dict(v) for k, v in self.values.items()})


__all__ = [
    "Lever",
    "SeatKind",
    "SEAT_KINDS",
    "Seat",
    "Standing",
    "levers",
    "make_seats",
    "seat_choices",
    "unavailable_levers",
    "validate_choice",
]
