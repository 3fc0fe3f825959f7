"""Join a workshop room (``/join``): a phone's view of one seat.

Enter the code (or follow the link or QR code), choose a free seat, then each
round make that seat's decisions. The seat's secret token goes into the
address (``/join?code=...&t=...``), so a reloaded or dropped phone comes back
to its own seat; the token, not anything the phone says, decides which seat
it acts for.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode

import solara

from civsim.app.room_views import (
    ROOM_CSS,
    esc,
    headline_html,
    lever_step,
    lever_text,
    story_html,
    use_room_updates,
)
from civsim.rooms import choices as ch
from civsim.rooms.registry import REGISTRY, Room, RoomError, RoomView, normalise_code
from civsim.rooms.seats import SEAT_KINDS, Seat, levers, seat_choices


def _query(search: str | None) -> dict[str, str]:
    q = parse_qs(search or "")
    return {k: v[0] for k, v in q.items() if v}


STORY_TITLE = "<h3>The story of the year</h3>"


def status_html(view: RoomView, seat: Seat | None) -> str:
    """The round, the shared headline and (for a seat) its facts: everything a year changes above the form."""
    state = {"open": f"Year {view.round} of {view.n_rounds}: decide", "running": "The year is running…",
             "finished": "The game is over: the host leads the debrief"}[view.state]  # fmt: skip
    out = (
        f'<h3 class="civsim-round-state civsim-state-{esc(view.state)}">{esc(state)}</h3>'
        f'<div class="civsim-shared-headline">{view.drawn("headline", headline_html, shared=True)}</div>'
    )
    if seat is not None:
        rows = "".join(f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in view.facts.get(seat.id, []))
        out += f'<h3>Your part of the locality</h3><table class="civsim-my-facts">{rows}</table>'
    return out


def observer_html(view: RoomView) -> str:
    """An observer's page below its title: the round, the headline and the story, drawn once per view."""
    story = view.drawn("story", story_html, shared=True)
    return f'{status_html(view, None)}{STORY_TITLE}<div class="civsim-story civsim-phone-story">{story}</div>'


@solara.component
def Join():
    router = solara.use_router()
    q = _query(router.search)
    code = normalise_code(q.get("code", ""))
    token = q.get("t", "")
    solara.Title("civsim · Join a room")
    solara.Style(ROOM_CSS)
    with solara.Column(classes=["civsim-phone", "civsim-join"]):
        if code and token:
            SeatPage(code, token)
        elif code:
            ChooseSeat(code)
        else:
            EnterCode()


@solara.component
def EnterCode():
    router = solara.use_router()
    typed, set_typed = solara.use_state("")
    error, set_error = solara.use_state("")

    def go():
        try:
            room = REGISTRY.get(typed)
        except RoomError as exc:
            set_error(str(exc))
            return
        router.push("/join?" + urlencode({"code": room.code}))

    solara.HTML(tag="h2", unsafe_innerHTML="Join a workshop room")
    solara.InputText(
        "Code on the screen",
        value=typed,
        on_value=set_typed,
        continuous_update=True,
        classes=["civsim-code-input"],
    )
    solara.Button("Join", on_click=go, color="primary", classes=["civsim-join-go"])
    if error:
        solara.Error(error, classes=["civsim-join-error"])


@solara.component
def ChooseSeat(code: str):
    router = solara.use_router()
    name, set_name = solara.use_state("")
    error, set_error = solara.use_state("")
    try:
        room = REGISTRY.get(code)
    except RoomError as exc:
        solara.Error(str(exc), classes=["civsim-join-error"])
        solara.Button(
            "Enter another code", on_click=lambda: router.push("/join"), classes=["civsim-join-again"]
        )
        return
    use_room_updates(room, lambda v: tuple(s.holder is not None for s in v.seats))
    view = room.view()

    def take(seat_id: str | None):
        try:
            token = room.claim(seat_id, name)
        except RoomError as exc:
            set_error(str(exc))
            return
        router.push("/join?" + urlencode({"code": room.code, "t": token}))

    solara.HTML(tag="h2", unsafe_innerHTML=f"Room {esc(room.code)}: {esc(view.story)}")
    solara.Text(view.description)
    solara.InputText(
        "Your name (shown on the big screen)",
        value=name,
        on_value=set_name,
        continuous_update=True,
        classes=["civsim-name-input"],
    )
    solara.Text("Choose a free seat:", style={"font-weight": "bold"})
    for s in view.seats:
        taken = s.holder is not None
        with solara.Div(classes=["civsim-lever"]):
            solara.Button(
                f"{s.title}" + (" (taken)" if taken else ""),
                on_click=lambda sid=s.id: take(sid),
                disabled=taken,
                color="primary",
                outlined=taken,
                classes=["civsim-take-seat", f"civsim-take-{s.id}"],
                style={"width": "100%"},
            )
            solara.Text(SEAT_KINDS[s.kind].role, classes=["civsim-lever-help"])
    solara.Button(
        "Just watch (observer)", on_click=lambda: take(None), text=True, classes=["civsim-take-observer"]
    )
    if error:
        solara.Error(error, classes=["civsim-join-error"])


@solara.component
def SeatPage(code: str, token: str):
    router = solara.use_router()
    try:
        room = REGISTRY.get(code)
        me = room.rejoin(token)
    except RoomError as exc:
        solara.Error(str(exc), classes=["civsim-join-error"])
        solara.Button(
            "Join again",
            on_click=lambda: router.push("/join?" + urlencode({"code": code})),
            classes=["civsim-join-again"],
        )
        return

    def key(v: RoomView):
        # not the "running" state: 40 phones re-rendering as a year starts would slow its results
        mine = next((s.decided for s in v.seats if s.id == me.seat), None)
        return (v.state == "finished", v.round, len(v.rounds), v.error, v.deadline, mine)

    use_room_updates(room, key)
    view = room.view()
    seat = room.game.seat(me.seat) if me.seat else None
    title = seat.title if seat else "Observer"
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            f'<h2 class="civsim-my-seat" data-seat="{esc(me.seat or "observer")}">{esc(title)}</h2>'
            f"<p>{esc(me.name)} · room {esc(room.code)} · {esc(view.story)}</p>"
        ),
    )
    if view.error:
        solara.Error(view.error)
    if seat is None:  # an observer's page: everything a year changes in one widget, one message an update
        solara.HTML(tag="div", unsafe_innerHTML=view.drawn("observer", observer_html),
                    classes=["civsim-phone-status"])  # fmt: skip
    else:  # the seat's form sits between the round (with the seat's facts) and the story
        status = view.drawn(f"status-{seat.id}", lambda v: status_html(v, seat))
        solara.HTML(tag="div", unsafe_innerHTML=status, classes=["civsim-phone-status"])
        if seat.decides:  # hidden, not removed, when the game ends: one message, not one per widget closed
            closed = [] if view.state == "open" else ["civsim-form-closed"]
            with solara.Div(classes=["civsim-form", *closed]):
                DecisionForm(room, token, seat.id, view)
        if SEAT_KINDS[seat.kind].not_yet:
            solara.Text(SEAT_KINDS[seat.kind].not_yet, classes=["civsim-lever-help"])
        # drawn from the start (empty), so a year's results update these widgets instead of creating them
        solara.HTML(tag="div", unsafe_innerHTML=STORY_TITLE + view.drawn("story", story_html, shared=True),
                    classes=["civsim-story", "civsim-phone-story"])  # fmt: skip

    def leave():
        try:
            room.leave(token)
        except RoomError:
            pass
        router.push("/join?" + urlencode({"code": room.code}))

    with solara.Details("Leave this seat"):
        solara.Text("Frees the seat for someone else; this phone loses it.")
        solara.Button("Leave", on_click=leave, text=True, classes=["civsim-leave"])


@solara.component
def DecisionForm(room: Room, token: str, seat_id: str, view: RoomView):
    seat = room.game.seat(seat_id)
    standing = view.standing.get(seat_id, {})
    # this round's values; a new round starts from the standing choices without a second re-render
    # (the values are kept with their round, not reset by an effect after the year's update)
    kept, set_kept = solara.use_state((view.round, dict(standing)))
    values = kept[1] if kept[0] == view.round else dict(standing)

    def set_values(update):
        set_kept(lambda old: (view.round, update(old[1] if old[0] == view.round else dict(standing))))

    error, set_error = solara.use_state("")
    sent = next((s.decided for s in view.seats if s.id == seat_id), False)
    params = view.params
    for lv in levers(seat.kind):
        help_text, cost = lever_text(lv, params, view.graph["budget_now"])
        spec = lv.spec
        with solara.Div(classes=["civsim-lever", f"civsim-lever-{lv.param}"]):
            solara.SliderFloat(
                f"{lv.label}: {values.get(lv.param, standing.get(lv.param, spec.default)):g}",
                value=values.get(lv.param, standing.get(lv.param, float(spec.default))),
                on_value=lambda v, p=lv.param: set_values(lambda old: {**old, p: float(v)}),
                min=float(spec.min), max=float(spec.max), step=lever_step(lv.param),
            )  # fmt: skip
            solara.HTML(tag="div", unsafe_innerHTML=esc(help_text), classes=["civsim-lever-help"])
            solara.HTML(tag="div", unsafe_innerHTML=esc(cost), classes=["civsim-lever-cost"])
    for c in seat_choices(seat.kind):
        ChoiceField(c, room.game.locality, seat, values.get(c.name, standing.get(c.name)), set_values, params,
                    view.graph["budget_now"])  # fmt: skip

    def send():
        mine = {lv.param for lv in levers(seat.kind)} | {c.name for c in seat_choices(seat.kind)}
        try:
            room.decide(token, {k: v for k, v in values.items() if k in mine})
            set_error("")
        except RoomError as exc:
            set_error(str(exc))

    solara.Button(
        "Change my decision" if sent else f"Decide for year {view.round}",
        on_click=send, color="primary", classes=["civsim-decide"], style={"width": "100%"},
    )  # fmt: skip
    # always drawn (empty until sent): a new round updates it rather than removing a widget
    sent_note = '<div class="civsim-sent">Sent. You can change it until the year runs.</div>' if sent else ""
    solara.HTML(tag="div", unsafe_innerHTML=sent_note, classes=["civsim-sent-note"])
    if error:
        solara.Error(error, classes=["civsim-decide-error"])


@solara.component
def ChoiceField(choice: ch.Choice, loc: ch.Locality, seat, value, set_values, params, budget: float):
    """One seat choice (partners, focus, campaign, allies): a list to pick from, what it does and costs."""
    opts = ch.options(seat, choice.name, loc)

    def put(v):
        set_values(lambda old: {**old, choice.name: v})

    with solara.Div(classes=["civsim-lever", "civsim-choice", f"civsim-choice-{choice.name}"]):
        if choice.name in (ch.AGENCY_FOCUS, ch.NETWORK_FOCUS):
            none = ch.describe(choice.name, "")
            solara.Select(
                choice.label, values=[none, *opts], value=value or none,
                on_value=lambda v: put("" if v == none else v),
            )  # fmt: skip
        else:
            solara.SelectMultiple(
                choice.label, values=list(value or ()), all_values=opts, on_value=lambda v: put(tuple(v))
            )
        solara.HTML(tag="div", unsafe_innerHTML=esc(choice.help), classes=["civsim-lever-help"])
        cost = choice.cost(params, budget)
        solara.HTML(tag="div", unsafe_innerHTML=esc(cost), classes=["civsim-lever-cost"])
