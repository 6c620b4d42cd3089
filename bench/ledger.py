"""After a burst: what the database and the screens hold, against what Twilio was told.

Every call was answered by the desk (the desk leg went in-progress then completed, the
``<Dial action>`` said completed, the call completed), so each must end in the log as
``completed``, answered and not missed. Events are judged against the events table: each one
written for a burst call must reach every screen once, in id order, and per call in the order
ringing, answered, ended.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import create_engine, select

from callerid.models import Call, Event

from .sse import Received, Screen

KIND_ORDER = {"call.ringing": 0, "call.answered": 1, "call.ended": 2}
# What screens get as the SSE id: the event's gap-free position (events not numbered yet have
# none, and no screen has them yet either).
SSE_ID = Event.position


class Stored(NamedTuple):
    id: int
    kind: str
    call_sid: str


def stored_events(url: str, after: int, calls: set[str]) -> list[Stored]:
    """Each event committed after SSE id ``after`` for one of ``calls``, in that order."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(SSE_ID, Event.kind, Event.data).where(SSE_ID > after).order_by(SSE_ID)
            ).all()
    finally:
        engine.dispose()
    found = []
    for event_id, kind, data in rows:
        call_sid = json.loads(data).get("call_sid")
        if call_sid in calls:
            found.append(Stored(event_id, kind, call_sid))
    return found


def histories(url: str, calls: set[str]) -> dict[str, list[dict[str, Any]]]:
    """Every event of each of ``calls``, in position order, for a diagnosis: position, id,
    kind, when it was written, and what the card said of the call's status."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(SSE_ID, Event.id, Event.kind, Event.created_at, Event.data).order_by(SSE_ID)
            ).all()
    finally:
        engine.dispose()
    found: dict[str, list[dict[str, Any]]] = {sid: [] for sid in calls}
    for position, event_id, kind, created_at, data in rows:
        card = json.loads(data)
        if card.get("call_sid") in found:
            found[card["call_sid"]].append(
                {
                    "position": position,
                    "id": event_id,
                    "kind": kind,
                    "at": str(created_at),
                    "status": card.get("status"),
                    "is_missed": card.get("is_missed"),
                }
            )
    return found


def final_states(url: str, calls: set[str]) -> dict[str, tuple[str, bool, bool]]:
    """CallSid -> (status, answered, missed) of each of ``calls`` in the log."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(Call.call_sid, Call.status, Call.answered_at, Call.is_missed).where(
                    Call.call_sid.in_(sorted(calls))
                )
            ).all()
    finally:
        engine.dispose()
    return {
        sid: (status, answered is not None, bool(missed)) for sid, status, answered, missed in rows
    }


def log_figures(
    states: dict[str, tuple[str, bool, bool]], calls: set[str], given_up: set[str]
) -> dict[str, Any]:
    """Calls missing from the log, and calls whose callbacks were all acknowledged yet whose
    record says otherwise (not completed, not answered, or missed)."""
    missing = calls - set(states)
    wrong = {
        sid
        for sid, (status, answered, missed) in states.items()
        if status != "completed" or not answered or missed
    }
    return {
        "calls_missing": len(missing),
        "acknowledged_not_applied": len(wrong - given_up),
        "not_applied_after_giving_up": len(wrong & given_up),
        # For a diagnosis: which calls, and how the log left them.
        "not_applied_examples": {sid: states[sid] for sid in sorted(wrong)[:10]},
        "missing_examples": sorted(missing)[:10],
    }


def written(stored: list[Stored], calls: set[str]) -> dict[str, int]:
    """Per kind, the calls for which no event was written (a call recorded only by a later
    callback gets no ``call.ringing``: its card never popped)."""
    found = {}
    for kind in KIND_ORDER:
        with_kind = {event.call_sid for event in stored if event.kind == kind}
        found[f"no_{kind.removeprefix('call.')}"] = len(calls - with_kind)
    return found


@dataclass
class Screens:
    """Every screen's events against the table."""

    expected: int = 0
    lost: int = 0
    duplicated: int = 0
    out_of_order: int = 0  # ids going back, or a call's kinds going back
    ids_back: int = 0  # of which: an id lower than the one before it on the same screen
    kinds_back: int = 0  # of which: a call's event of an earlier kind after a later one
    # (screen, event before, event) for the first few, as (id, kind, CallSid): for a diagnosis.
    examples: list[tuple[int, tuple, tuple]] = field(default_factory=list)
    calls_with_loss: set[str] = field(default_factory=set)
    pop_ms: list[float] = field(default_factory=list)


def screens_figures(screens: list[Screen], stored: list[Stored], sent: dict[str, float]) -> Screens:
    """Lost, duplicated, out of order, and the screen-pop latency (first voice webhook sent ->
    its ``call.ringing`` on a screen)."""
    wanted = {event.id: event for event in stored}
    found = Screens(expected=len(wanted) * len(screens))
    for screen in screens:
        _status, events = screen.events()
        # Ours are the events with a stored id; the stored row names their call (a received
        # event's call is only what a pattern found in its data).
        mine = [
            (event.id, wanted[event.id].call_sid, event)
            for event in events
            if event.id is not None and event.id in wanted
        ]
        ids = [event_id for event_id, _call_sid, _event in mine]
        found.duplicated += len(ids) - len(set(ids))
        missing = set(wanted) - set(ids)
        found.lost += len(missing)
        found.calls_with_loss |= {wanted[event_id].call_sid for event_id in missing}
        for (before_id, _, before), (event_id, _, event) in zip(mine, mine[1:], strict=False):
            if event_id <= before_id:
                found.ids_back += 1
                _example(found, screen.number, before, event)
        reached: dict[str, int] = {}
        last: dict[str, Received] = {}
        popped: set[str] = set()
        for _event_id, call_sid, event in mine:
            rank = KIND_ORDER.get(event.kind, 0)
            if rank < reached.get(call_sid, -1):
                found.kinds_back += 1
                _example(found, screen.number, last[call_sid], event)
            reached[call_sid] = max(rank, reached.get(call_sid, -1))
            last[call_sid] = event
            first_ring = call_sid in sent and call_sid not in popped
            if event.kind == "call.ringing" and first_ring:
                popped.add(call_sid)
                found.pop_ms.append((event.at - sent[call_sid]) * 1000)
    return found


def _example(found: Screens, screen: int, before: Received, event: Received) -> None:
    found.out_of_order += 1
    if len(found.examples) < 10:
        found.examples.append(
            (
                screen,
                (before.id, before.kind, before.call_sid),
                (event.id, event.kind, event.call_sid),
            )
        )


def screens_hold(screens: list[Screen], stored: list[Stored]) -> bool:
    """Whether every screen has received every stored event (cheap enough to poll)."""
    wanted = {event.id for event in stored}
    return all(wanted <= {event.id for event in screen.received} for screen in screens)
