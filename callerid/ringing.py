"""Ringing calls, recorded a batch at a time: the voice webhook's path.

Under load, concurrent webhooks of one process share a transaction (telephony/groupcommit.py).
Every statement here runs once per batch, whatever its size, so the per-statement and per-commit
costs that dominated the webhook (docs/benchmarks.md) are divided among the calls of a batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, TextClause, bindparam, text

from . import directory, numbers
from .db import UTCDateTime, utcnow
from .events import store as events

_CALL_COLUMNS = (
    "call_sid",
    "from_number",
    "raw_from",
    "caller_kind",
    "line_id",
    "direction",
    "customer_id",
    "matched_by",
    "received_at",
)
_CALL_IDS = text("SELECT id, call_sid FROM calls WHERE call_sid IN :sids").bindparams(
    bindparam("sids", expanding=True)
)


@dataclass(frozen=True, slots=True)
class Ring:
    """One voice webhook, as Twilio sent it."""

    call_sid: str
    raw_from: str
    raw_to: str
    direction: str = "inbound"
    received_at: datetime | None = None
    # Recorded for the log and the missed calls without a ringing card: the call is over, or
    # rang too long ago for anyone to pick it up (a late callback, the spool).
    quiet: bool = False


@dataclass(frozen=True, slots=True)
class Ringing:
    """What was recorded for a ring: the call's id, whether it is new, the ``call.ringing``
    event's id, and the caller's number as normalised (the TwiML dials from it)."""

    call_id: int
    is_new: bool
    event_id: int | None
    caller: numbers.Caller


@dataclass(frozen=True, slots=True)
class _NewCall:
    # What the card reads of a call that has just started ringing, without loading a model.
    id: int
    call_sid: str
    from_number: str | None
    raw_from: str
    caller_kind: str
    received_at: datetime
    status: str = "ringing"
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    answered_by: str = ""
    is_missed: bool = False
    duration: int | None = None
    outcome: str = ""


def record(
    connection: Connection, rings: Sequence[Ring], region: str, *, today: date
) -> list[Ringing]:
    """Record incoming calls and announce each new one (``call.ringing``) unless its ring is
    ``quiet``; one result per ring, in order. The caller commits. This is the one way a ring is
    recorded: the voice webhook's batches, a callback for a call never recorded, the spool.

    Idempotent per CallSid: a ring whose call exists (a retried webhook, or the same CallSid
    twice in the batch) records and announces nothing. Withheld and invalid caller IDs are kept
    but never matched. Everything is read before the first write, so the write lock (SQLite's,
    held until commit and shared by every worker) covers two inserts and the commit.
    """
    callers = [numbers.normalise(r.raw_from, region) for r in rings]
    keys = [
        directory.line_key(r.raw_to or "", numbers.normalise(r.raw_to, region).number)
        for r in rings
    ]
    owners = directory.owners_of_many(connection, {c.number for c in callers if c.number})
    lines = directory.lines_of(connection, keys)
    firsts: dict[str, int] = {}
    for index, one in enumerate(rings):
        firsts.setdefault(one.call_sid, index)
    now = utcnow()
    batch = [
        (
            _NewCall(
                id=0,  # not written yet, so none of the history the card reads is this call
                call_sid=rings[i].call_sid,
                from_number=callers[i].number,
                raw_from=(rings[i].raw_from or "")[:100],
                caller_kind=callers[i].kind,
                received_at=rings[i].received_at or now,
            ),
            owners.get(callers[i].number or "", []),
            lines[keys[i]],
            rings[i].direction[:20],
        )
        for i in sorted(firsts.values(), key=lambda i: rings[i].call_sid)
    ]
    # Cards first: the history they show must not include the calls being recorded.
    cards = directory.cards_for_calls(
        connection,
        [(call, owners_, line) for call, owners_, line, _ in batch],
        region,
        today=today,
    )
    inserted = _insert_calls(connection, batch)
    ids = _existing_ids(connection, [c.call_sid for c, *_ in batch if c.call_sid not in inserted])
    ids.update(inserted)
    quiet = {r.call_sid for r in rings if r.quiet}
    announced = [
        (call.call_sid, card)
        for (call, *_), card in zip(batch, cards, strict=True)
        if call.call_sid in inserted and call.call_sid not in quiet
    ]
    appended = events.append_many(connection, "call.ringing", [card for _, card in announced])
    event_ids = dict(zip((sid for sid, _ in announced), appended, strict=True))
    results = []
    for index, one in enumerate(rings):
        first = firsts[one.call_sid] == index
        results.append(
            Ringing(
                call_id=ids[one.call_sid],
                is_new=first and one.call_sid in inserted,
                event_id=event_ids.get(one.call_sid) if first else None,
                caller=callers[index],
            )
        )
    return results


def matched_by(customers: list[Any]) -> str | None:
    if not customers:
        return None
    return "number" if len(customers) == 1 else "shared"


def _insert_calls(connection: Connection, batch: list[tuple[Any, ...]]) -> dict[str, int]:
    """Insert the batch's calls; CallSid -> id of those that were new (the rest existed)."""
    values: dict[str, Any] = {"is_missed": False}
    for i, (call, customers, line, direction) in enumerate(batch):
        row = {
            "call_sid": call.call_sid,
            "from_number": call.from_number,
            "raw_from": call.raw_from,
            "caller_kind": call.caller_kind,
            "line_id": line.id,
            "direction": direction,
            "customer_id": customers[0].id if customers else None,
            "matched_by": matched_by(customers),
            "received_at": call.received_at,
        }
        values.update((f"{name}{i}", value) for name, value in row.items())
    found = connection.execute(_insert_calls_sql(len(batch)), values)
    return {call_sid: id_ for id_, call_sid in found}


def _existing_ids(connection: Connection, call_sids: list[str]) -> dict[str, int]:
    if not call_sids:
        return {}
    return {call_sid: id_ for id_, call_sid in connection.execute(_CALL_IDS, {"sids": call_sids})}


@lru_cache(maxsize=128)
def _insert_calls_sql(count: int) -> TextClause:
    # Written once per batch size: building statements per call cost more than running them.
    # A retried webhook's row does nothing and returns nothing.
    rows = ", ".join(
        "("
        + ", ".join(f":{name}{i}" for name in _CALL_COLUMNS)
        + ", 'ringing', :is_missed, '', '', '')"
        for i in range(count)
    )
    return text(
        f"INSERT INTO calls ({', '.join(_CALL_COLUMNS)}, status, is_missed, answered_by, "
        f"outcome, called_back_by) VALUES {rows} ON CONFLICT (call_sid) DO NOTHING "
        "RETURNING id, call_sid"
    ).bindparams(*(bindparam(f"received_at{i}", type_=UTCDateTime()) for i in range(count)))
