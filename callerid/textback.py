"""The "sorry we missed you" text: one SMS a few minutes after a missed call, when it may be sent.

A call that ends missed is marked (``missed``) and, when its transaction commits, gets one
``TextSent`` row in that same transaction (``schedule``): "scheduled" for its due time, or
"dropped" at once with the reason a rule gives (too short a ring, a withheld or invalid number,
a fixed line, another country, do-not-contact, opted out), so that managers see why nobody was
texted. Nothing there talks to Twilio: the webhook only writes a row.

At the due time a sender (callerid/telephony/texting.py, one per process) asks ``claim`` whether
to send. ``claim`` decides in a transaction that no other process's decision overlaps (SQLite's
write lock, a PostgreSQL advisory lock), so the cooldown and the daily cap count every text
already on its way: it cancels the text (called back, answered on a later call, the call turned
out answered, opted out or do-not-contact meanwhile), holds it through quiet hours, drops it
when older than ``MAX_AGE`` or over a cap, or records "sending" and commits before the REST
request. A text is never sent again after that (callerid/textstatus.py follows it).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from flask import Flask
from phonenumbers import PhoneNumberType
from sqlalchemy import event, select, text, update
from sqlalchemy.orm import Session

from . import business_settings, db, texts, textstatus, textwords, zones
from .business_settings import BusinessSettings
from .directory.lookup import find_by_number
from .models import Call, TextSent

log = logging.getLogger(__name__)
_MISSED = "callerid.textback.missed"

MIN_RING = timedelta(seconds=5)  # a shorter ring was a slip of the finger, not a lost booking
MAX_AGE = timedelta(hours=12)  # after this, "sorry we missed you" reads as spam
WAITING = ("scheduled", "held")
# Names the advisory lock that makes senders decide one text at a time (any constant works).
_DECIDE_LOCK = text("SELECT pg_advisory_xact_lock(7215340091)")


@dataclass(frozen=True)
class Options:
    """The environment's part of text-back (config/): the region and time zone, and the
    senders to fall back on."""

    region: str
    zone: ZoneInfo
    text_from: str | None
    service: str | None
    not_from: frozenset[str]


@dataclass(frozen=True)
class Outgoing:
    """A text claimed for sending: what the REST request needs."""

    id: int
    to: str
    sender: str
    body: str


def missed(session: Session, call: Call) -> None:
    """``call`` just ended missed: its text is scheduled as this transaction commits, when
    text-back is on (a call found answered after all by then gets none)."""
    session.info.setdefault(_MISSED, []).append(call)


def init_app(app: Flask) -> None:
    """Schedule the marked calls' texts in the transaction that marked them, on every session
    of this app: the webhooks, the spool's replay and phone systems all end calls."""
    sessions = app.extensions["callerid.sessions"]
    event.listen(sessions, "before_commit", lambda session: _schedule_marked(session, app.config))
    event.listen(sessions, "after_soft_rollback", lambda session, _previous: _forget(session))


def _schedule_marked(session: Session, config: Mapping[str, Any]) -> None:
    marked = session.info.pop(_MISSED, [])
    if not marked or not config.get("CALLERID_TEXT_BACK"):
        return
    opts = options(config)
    try:
        # A savepoint: whatever goes wrong here must not cost the call its record.
        with session.begin_nested():
            settings = business_settings.load(session)  # once for the batch's calls
            for call in {id(call): call for call in marked}.values():
                if call.is_missed:
                    schedule(session, call, opts, settings)
    except Exception:  # noqa: BLE001 - the call's own record matters more than its text
        log.exception("text-back: a missed call's text could not be scheduled")


def _forget(session: Session) -> None:
    session.info.pop(_MISSED, None)


def options(config: Mapping[str, Any]) -> Options:
    lines = (config.get("CALLERID_TEXT_NOT_FROM") or "").replace(";", ",").split(",")
    return Options(
        region=config.get("CALLERID_DEFAULT_REGION") or "US",
        zone=zones.business_zone(config),
        text_from=config.get("CALLERID_TEXT_FROM") or None,
        service=config.get("TWILIO_MESSAGING_SERVICE_SID") or None,
        not_from=frozenset(line.strip() for line in lines if line.strip()),
    )


def schedule(
    session: Session, call: Call, opts: Options, settings: BusinessSettings
) -> TextSent | None:
    """The text for a call that just ended missed: scheduled, or dropped with its reason.
    None when the call has one already. The caller commits."""
    if session.scalar(select(TextSent.id).where(TextSent.call_id == call.id)) is not None:
        return None
    ended = call.ended_at or db.utcnow()
    row = TextSent(
        call=call,
        customer=call.customer,
        number=call.from_number or "",
        sender=sender_for(call, opts),
        created_at=ended,
        due_at=ended + timedelta(minutes=settings.text_delay_minutes),
    )
    reason = _never(session, call, settings, opts)
    if reason is None and not row.sender:
        reason = "there is no number to text from (CALLERID_TEXT_FROM)"
    if reason is not None:
        row.status, row.reason, row.due_at = "dropped", reason, ended
    session.add(row)
    textstatus.announce(session, row)
    return row


def sender_for(call: Call, opts: Options) -> str:
    """The line that was called if it can text, else CALLERID_TEXT_FROM, else the Messaging
    Service; "" when there is none."""
    line = call.line.number if call.line is not None else ""
    if line.startswith("+") and line not in opts.not_from and not _fixed_line(line):
        return line
    return opts.text_from or opts.service or ""


def _never(session: Session, call: Call, settings: BusinessSettings, opts: Options) -> str | None:
    """Why this missed call must never get a text, or None."""
    number = call.from_number
    if not number:
        return "the caller's number is withheld or invalid"
    if call.ended_at is not None and call.ended_at - call.received_at < MIN_RING:
        return "it rang under 5 seconds"
    if _fixed_line(number):
        return "the number is a landline: it cannot receive texts"
    home = phonenumbers.country_code_for_region(opts.region)
    if phonenumbers.parse(number).country_code != home and not settings.text_other_countries:
        return "the number is in another country (texts abroad are off in the settings)"
    return _refused_by_customer(session, number)


def _refused_by_customer(session: Session, number: str) -> str | None:
    for customer in find_by_number(session, number):
        if customer.do_not_contact:
            return f"{customer.name or 'the customer'} asked not to be contacted"
    opted = texts.opted_out(session, number)
    if opted is not None:
        return f"the number opted out of texts ({opted.keyword})"
    return None


def _fixed_line(number: str) -> bool:
    # FIXED_LINE_OR_MOBILE (every US number) may text; only a sure landline may not.
    try:
        kind = phonenumbers.number_type(phonenumbers.parse(number))
    except phonenumbers.NumberParseException:
        return True
    return bool(kind == PhoneNumberType.FIXED_LINE)


def due(session: Session, now: datetime, limit: int = 20) -> list[int]:
    """Texts whose time has come, oldest first."""
    query = select(TextSent.id).where(TextSent.status.in_(WAITING), TextSent.due_at <= now)
    return list(session.scalars(query.order_by(TextSent.due_at, TextSent.id).limit(limit)))


def claim(session: Session, text_id: int, opts: Options, now: datetime) -> Outgoing | None:
    """Decide what becomes of a due text and commit it: None when it was cancelled, held,
    dropped or taken by another process; else it is "sending" now, to be sent once."""
    _decide_alone(session)
    row = session.get(TextSent, text_id, with_for_update=True, populate_existing=True)
    if row is None or row.status not in WAITING or row.due_at > now:
        session.rollback()
        return None
    settings = business_settings.load(session)
    verdict = _verdict(session, row, settings, opts, now)
    if verdict is not None:
        row.status, row.reason, row.due_at = verdict
        textstatus.announce(session, row)
        session.commit()
        return None
    body = textwords.compose(settings, row.customer)
    # Conditional, so that only one process ever moves it to "sending".
    taken = session.execute(
        update(TextSent)
        .where(TextSent.id == text_id, TextSent.status.in_(WAITING))
        .values(status="sending", sent_at=now, body=body, reason="", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if db.changed_rows(taken) != 1:
        session.rollback()
        return None
    session.refresh(row)
    textstatus.announce(session, row)
    session.commit()
    return Outgoing(text_id, row.number, row.sender, body)


def _decide_alone(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_DECIDE_LOCK)
    else:
        db.lock_for_writing(session)


def _verdict(
    session: Session, row: TextSent, settings: BusinessSettings, opts: Options, now: datetime
) -> tuple[str, str, datetime] | None:
    """(status, reason, due) for a text that must not go now, or None to send it."""
    call = row.call
    if call is not None:
        stop = _cancelled_by(session, call)
        if stop is not None:
            return "cancelled", stop, row.due_at
    refused = _refused_by_customer(session, row.number)
    if refused is not None:
        return "cancelled", refused, row.due_at
    if now - row.created_at > MAX_AGE:
        return "dropped", "more than 12 hours after the call: too late to text", row.due_at
    quiet_until = _quiet_until(settings, now.astimezone(opts.zone))
    if quiet_until is not None:
        return "held", f"quiet hours: held until {quiet_until:%H:%M}", quiet_until
    hours = settings.cooldown_hours
    if textstatus.sent_since(session, row.number, now - timedelta(hours=hours)):
        return "dropped", f"this number was texted in the last {hours} hours", row.due_at
    if textstatus.cap_reached_today(session, settings, opts.zone, now):
        log.warning("text-back: the daily cap of %d texts is reached", settings.daily_cap)
        return "dropped", f"the daily cap of {settings.daily_cap} texts was reached", row.due_at
    return None


def _cancelled_by(session: Session, call: Call) -> str | None:
    if call.called_back_at is not None:
        return f"called back by {call.called_back_by or 'someone'}"
    if not call.is_missed:
        return "the call was answered after all"
    again = select(Call.id).where(
        Call.from_number == call.from_number,
        Call.received_at > call.received_at,
        Call.answered_at.is_not(None),
    )
    if session.scalar(again.limit(1)) is not None:
        return "they called again and were answered"
    return None


def _quiet_until(settings: BusinessSettings, local: datetime) -> datetime | None:
    """The end of the quiet hours ``local`` falls in (a local time), or None outside them."""
    # HH:MM, as business_settings.load checks (a bad value is replaced by its default there).
    start, end = time.fromisoformat(settings.quiet_start), time.fromisoformat(settings.quiet_end)
    now = local.time()
    if start == end:
        return None
    inside = start <= now < end if start < end else (now >= start or now < end)
    if not inside:
        return None
    ends = datetime.combine(local.date(), end, local.tzinfo)
    return ends if ends > local else ends + timedelta(days=1)
