"""The call log: every call, newest first, filtered, in keyset pages that never repeat or skip."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, not_, or_, select, text
from sqlalchemy.orm import Session, selectinload

from .. import inputs, numbers
from ..models import Call, Note
from ..models.calls import OUTCOMES, RANK
from . import counting
from .retention import ANONYMISED

# What ``status`` may be: a Twilio CallStatus, or one of the two words people use.
STATUSES = ("missed", "answered", *RANK)
# New vs returning, as insights counts it: a call is *returning* when its customer had called
# before it (anonymised calls keep that as a mark, see ``history.retention``); *unknown* when the
# caller ID was withheld or unusable, so nobody can tell; *new* otherwise (a stranger's number,
# or a customer's first call).
CALLERS = ("new", "returning", "unknown")
# An outcome set on the call, or "none" for calls without one.
OUTCOME_FILTERS = (*OUTCOMES, "none")


class BadCursor(ValueError):
    """The pagination cursor was not one we handed out."""


class BadFilter(ValueError):
    """A filter value outside the ones listed in ``STATUSES``, ``CALLERS``, ``OUTCOME_FILTERS``."""


@dataclass(frozen=True, slots=True)
class Page:
    calls: list[Call]
    next_cursor: str | None
    # call id -> "new", "returning" or "unknown" (see ``CALLERS``)
    callers: dict[int, str] = field(default_factory=dict)


# Built once: making these expressions costs more than running them.
_is_returning = cache(counting.came_back)


_UNKNOWN = Call.caller_kind.in_((numbers.WITHHELD, numbers.INVALID))


@cache
def caller_of() -> ColumnElement[str]:
    """The caller of each call as ``CALLERS`` names it, computed by the database."""
    return case((_is_returning(), "returning"), (_UNKNOWN, "unknown"), else_="new")


@cache
def _caller_filter(caller: str) -> ColumnElement[bool]:
    if caller == "returning":
        return _is_returning()
    if caller == "unknown":
        return and_(_UNKNOWN, not_(_is_returning()))
    return and_(not_(_UNKNOWN), not_(_is_returning()))


def _status_filter(status: str) -> ColumnElement[bool]:
    if status == "missed":
        return Call.is_missed.is_(True)
    if status == "answered":
        return Call.answered_at.is_not(None)
    return Call.status == status


def _check(value: str | None, allowed: tuple[str, ...], name: str) -> None:
    if value is not None and value not in allowed:
        raise BadFilter(f"{name} must be one of {', '.join(allowed)}, not {value!r}.")


def log(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    customer_id: int | None = None,
    status: str | None = None,
    line_id: int | None = None,
    caller: str | None = None,
    outcome: str | None = None,
    answered_by: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    """The call log, newest first, received in [``since``, ``until``) and matching every filter
    given: ``status`` (``STATUSES``), ``caller`` (``CALLERS``), ``outcome`` (``OUTCOME_FILTERS``),
    ``answered_by`` (the exact name), a line, a customer. Keyset pagination: a cursor names the
    last call of the previous page, so calls arriving meanwhile neither repeat nor skip a row.
    Raises ``BadCursor`` and ``BadFilter``."""
    _check(status, STATUSES, "status")
    _check(caller, CALLERS, "caller")
    _check(outcome, OUTCOME_FILTERS, "outcome")
    where: list[ColumnElement[bool]] = []
    if since is not None:
        where.append(Call.received_at >= since)
    if until is not None:
        where.append(Call.received_at < until)
    if customer_id is not None:
        where.append(Call.customer_id == customer_id)
    if line_id is not None:
        where.append(Call.line_id == line_id)
    if status:
        where.append(_status_filter(status))
    if caller:
        where.append(_caller_filter(caller))
    if outcome:
        where.append(Call.outcome == ("" if outcome == "none" else outcome))
    if answered_by:
        where.append(Call.answered_by == answered_by)
    if cursor:
        at, call_id = _decode_cursor(cursor)
        where.append(or_(Call.received_at < at, and_(Call.received_at == at, Call.id < call_id)))
    rows = session.execute(
        select(Call, caller_of())
        .options(selectinload(Call.customer), selectinload(Call.line))
        .where(*where)
        .order_by(Call.received_at.desc(), Call.id.desc())
        .limit(limit + 1)
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    calls = [call for call, _ in rows]
    return Page(
        calls,
        _encode_cursor(calls[-1]) if more and calls else None,
        {call.id: kind for call, kind in rows},
    )


def log_chunks(session: Session, *, chunk: int = 1000, **filters: Any) -> Iterator[Page]:
    """The whole filtered call log (``log``'s filters), newest first, ``chunk`` calls at a time:
    each chunk is one keyset query, so memory stays flat however long the log, and the consumer
    may release the session between chunks."""
    cursor = None
    while True:
        page = log(session, limit=chunk, cursor=cursor, **filters)
        if page.calls:
            yield page
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def notes_counts(session: Session, call_ids: list[int]) -> dict[int, int]:
    """How many notes each of these calls has; calls without notes are left out."""
    if not call_ids:
        return {}
    rows = session.execute(
        select(Note.call_id, func.count()).where(Note.call_id.in_(call_ids)).group_by(Note.call_id)
    )
    return {call_id: count for call_id, count in rows}


# Each step finds the next name in the (answered_by, ...) index: one probe per name, however many
# calls there are, where SELECT DISTINCT would read every call.
_NEXT_NAMES = text(
    """
    WITH RECURSIVE names(name, n) AS (
        SELECT MIN(answered_by), 1 FROM calls WHERE answered_by > ''
        UNION ALL
        SELECT (SELECT MIN(answered_by) FROM calls WHERE answered_by > names.name), n + 1
        FROM names WHERE names.name IS NOT NULL AND n < :most
    )
    SELECT name FROM names WHERE name IS NOT NULL
    """
)


def answerers(session: Session, *, most: int = 200) -> list[str]:
    """The names calls were answered by (``answered_by``), in order; at most ``most``."""
    return list(session.scalars(_NEXT_NAMES, {"most": most}))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _encode_cursor(call: Call) -> str:
    micros = (call.received_at - _EPOCH) // timedelta(microseconds=1)
    return f"{micros}.{call.id}"


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        micros, raw_id = cursor.split(".")
        call_id = inputs.whole_number(raw_id)
        if call_id is None:
            raise ValueError(raw_id)
        return _EPOCH + timedelta(microseconds=int(micros)), call_id
    except (ValueError, OverflowError) as exc:
        raise BadCursor(cursor) from exc


_NO_NUMBER = {
    numbers.WITHHELD: "Number withheld",
    numbers.INVALID: "Unrecognised number",
    ANONYMISED: "Anonymised",
}


def caller_display(call: Call, region: str) -> str:
    """The caller's number as people write it, or why there is none."""
    if call.from_number:
        return numbers.display(call.from_number, region)
    return _NO_NUMBER.get(call.caller_kind, call.raw_from)
