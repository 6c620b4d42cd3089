"""What becomes of a "sorry we missed you" text once it is on its way: Twilio's REST answer,
then its signed message status callbacks, in any order and any number of times.

A text only moves forward (``RANK``): a late "sent" never undoes "delivered", and our own
"unknown" (no answer in time) gives way to whatever Twilio reports later. Error 21610 (the
number unsubscribed from us at Twilio) opts it out of every text, as a STOP reply does. Each
step is announced as ``text.sent`` for the missed call's card. Also here: which texts count as
on their way, for the cooldown and the daily cap.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from . import db, texts, textwords, zones
from .business_settings import BusinessSettings
from .db import iso
from .events import store as events
from .models import TextSent

OPTED_OUT = 21610
# A text "sending" this long without Twilio's answer lost its sender mid-request (a worker
# killed, a restart): its outcome is unknown, and it is never sent again.
STUCK_AFTER = timedelta(minutes=10)
# Twilio's message statuses (and ours before them) by how far along a text is.
RANK = {
    "scheduled": 0,
    "held": 0,
    "sending": 1,  # ours before the REST request; Twilio's own "sending" reads the same
    "unknown": 1,
    "accepted": 2,
    "queued": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "read": 4,
    "canceled": 4,
}


def sent(session: Session, text_id: int, message_sid: str, status: str) -> None:
    """Twilio took the text (its REST answer)."""
    row = _locked(session, text_id)
    if row is not None:
        row.message_sid = row.message_sid or message_sid
        if _forward(row, status if status in RANK else "queued"):
            announce(session, row)


def not_sent(session: Session, text_id: int, code: int | None, words: str, at: datetime) -> None:
    """Twilio refused the text (``code``), or could not be reached: it failed for sure."""
    row = _locked(session, text_id)
    if row is not None:
        row.status, row.error_code, row.error = "failed", code, words[:300]
        _opt_out_if_unsubscribed(session, row, code, at)
        announce(session, row)


def unknown(session: Session, text_id: int, words: str) -> None:
    """No answer in time: Twilio may or may not have it. Never sent again."""
    row = _locked(session, text_id)
    if row is not None and row.status == "sending":
        row.status, row.error = "unknown", words[:300]
        announce(session, row)


def apply_status(
    session: Session,
    text_id: int | None,
    message_sid: str,
    status: str,
    error_code: int | None,
    at: datetime,
) -> None:
    """A signed message status callback; repeats and late arrivals change nothing."""
    row = _locked(session, text_id) if text_id is not None else None
    if row is None:
        row = session.scalar(select(TextSent).where(TextSent.message_sid == message_sid))
    if row is None:
        return
    row.message_sid = row.message_sid or message_sid
    if not _forward(row, status):
        return
    if error_code:
        row.error_code, row.error = error_code, textwords.words_for_error(error_code)[:300]
        _opt_out_if_unsubscribed(session, row, error_code, at)
    announce(session, row)


def _opt_out_if_unsubscribed(
    session: Session, row: TextSent, code: int | None, at: datetime
) -> None:
    """Twilio's error 21610 (they replied STOP to Twilio): no text from any of our lines."""
    if code == OPTED_OUT and row.number:
        texts.opt_out(session, row.number, "STOP", "twilio", at)


def _forward(row: TextSent, status: str) -> bool:
    if status in RANK and RANK[status] > RANK.get(row.status, 5):
        row.status = status
        return True
    return False


def _locked(session: Session, text_id: int) -> TextSent | None:
    db.lock_for_writing(session)
    return session.get(TextSent, text_id, with_for_update=True, populate_existing=True)


def give_up_on_stuck(session: Session, now: datetime) -> None:
    """Texts left "sending" by a sender that died before Twilio answered it: "unknown"."""
    stuck = and_(
        TextSent.status == "sending",
        TextSent.message_sid.is_(None),
        TextSent.sent_at < now - STUCK_AFTER,
    )
    # Looked for first: every process asks every few seconds, and an UPDATE, even of no row,
    # would take SQLite's write lock each time, making a webhook arriving then wait.
    if session.scalar(select(TextSent.id).where(stuck).limit(1)) is None:
        return
    session.execute(
        update(TextSent)
        .where(stuck)
        .values(status="unknown", error="The sender stopped before Twilio answered.")
        .execution_options(synchronize_session=False)
    )


def announce(session: Session, row: TextSent) -> None:
    """``text.sent``: where the text for a missed call stands, for that call's card."""
    session.flush()
    events.append(session, "text.sent", payload(row))


def payload(row: TextSent) -> dict[str, Any]:
    return {
        "call_sid": row.call.call_sid if row.call is not None else None,
        "customer_id": row.customer_id,
        "to": row.number or None,
        "status": row.status,
        "kind": textwords.kind(row),
        "words": textwords.words(row, None),
        "error_code": row.error_code,
        "sent_at": iso(row.sent_at),
    }


# A text that left (or may have left) for the customer: counted by the cooldown and the cap.
_ON_ITS_WAY = or_(TextSent.message_sid.is_not(None), TextSent.status.in_(("sending", "unknown")))


def sent_since(session: Session, number: str, since: datetime) -> bool:
    query = select(TextSent.id).where(
        TextSent.number == number, TextSent.sent_at >= since, _ON_ITS_WAY
    )
    return session.scalar(query.limit(1)) is not None


def cap_reached_today(
    session: Session, settings: BusinessSettings, zone: ZoneInfo, now: datetime | None = None
) -> bool:
    """Whether today's texts (in ``zone``, the business's day) reached the daily cap: no more
    go out until midnight there. The settings page shows it."""
    local = (now or db.utcnow()).astimezone(zone)
    midnight = zones.local_midnight(local.date(), zone)
    count = session.scalar(select(func.count()).where(TextSent.sent_at >= midnight, _ON_ITS_WAY))
    return bool((count or 0) >= settings.daily_cap)
