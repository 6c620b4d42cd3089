"""Texts people send to our numbers, and who asked for no more texts.

A text is kept with its sender's customer and the missed call it answers (the sender's latest
missed call of the last ``ANSWERS_WITHIN``), and announced as ``text.received`` so the board can
show it on that call's card. callerid never replies by itself: Twilio already answers the opt-out
keywords. A STOP-family keyword opts the number out of texts from every line of the business; a
START-family keyword opts it back in (only the sender can); HELP changes nothing. Twilio's
Advanced Opt-Out names the keyword itself (``OptOutType``), which then wins.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from . import numbers
from .db import iso
from .directory.lookup import find_by_number
from .events import store as events
from .models import Call, OptOut, TextReceived

# Twilio's default keywords for long codes (help article 223134027, "Twilio support for
# opt-out keywords"), matched on the whole text, whatever its case and surrounding spaces.
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
START_WORDS = {"START", "YES", "UNSTOP"}
HELP_WORDS = {"HELP", "INFO"}
ANSWERS_WITHIN = timedelta(days=7)
_PUNCTUATION = re.compile(r"[\s.!]+")


def keyword_of(body: str, opt_out_type: str = "") -> str:
    """ "STOP", "START", "HELP" or "" for a text's ``body`` (and Twilio's ``OptOutType``)."""
    if opt_out_type.upper() in ("STOP", "START", "HELP"):
        return opt_out_type.upper()
    word = _PUNCTUATION.sub("", body).upper()
    for keyword, family in (("STOP", STOP_WORDS), ("START", START_WORDS), ("HELP", HELP_WORDS)):
        if word in family:
            return keyword
    return ""


def receive(
    session: Session,
    *,
    message_sid: str,
    raw_from: str,
    raw_to: str,
    body: str,
    opt_out_type: str,
    region: str,
    at: datetime,
) -> TextReceived | None:
    """Keep a text, apply its keyword and announce it; None when it was kept already (Twilio
    sent it again). The caller commits."""
    if session.scalar(select(TextReceived.id).where(TextReceived.message_sid == message_sid)):
        return None
    sender = numbers.normalise(raw_from, region)
    number = sender.number if sender.is_number else None
    owners = find_by_number(session, number) if number else []
    text = TextReceived(
        message_sid=message_sid,
        number=number,
        raw_from=raw_from[:100],
        line=raw_to[:64],
        body=body,
        keyword=keyword_of(body, opt_out_type),
        customer=owners[0] if owners else None,
        call=_answered_call(session, number, at) if number else None,
        received_at=at,
    )
    session.add(text)
    if number and text.keyword == "STOP":
        opt_out(session, number, "STOP", "reply", at)
    elif number and text.keyword == "START":
        opt_in(session, number)
    session.flush()
    events.append(session, "text.received", payload(text, region))
    return text


def opt_out(session: Session, number: str, keyword: str, source: str, at: datetime) -> OptOut:
    """No more texts to ``number`` from any line; a repeat keeps the first date."""
    row = session.get(OptOut, number)
    if row is None:
        row = OptOut(number=number, keyword=keyword, source=source, opted_out_at=at)
        session.add(row)
    return row


def opt_in(session: Session, number: str) -> None:
    session.execute(delete(OptOut).where(OptOut.number == number))


def opted_out(session: Session, number: str) -> OptOut | None:
    return session.get(OptOut, number)


def of_customer(session: Session, customer_id: int, limit: int = 50) -> list[TextReceived]:
    """The customer's texts, newest first."""
    return list(
        session.scalars(
            select(TextReceived)
            .where(TextReceived.customer_id == customer_id)
            .order_by(TextReceived.received_at.desc(), TextReceived.id.desc())
            .limit(limit)
        )
    )


def latest_from(session: Session, numbers_since: dict[str, datetime]) -> dict[str, TextReceived]:
    """The latest text from each number received since its time (a missed call's)."""
    if not numbers_since:
        return {}
    rows = session.scalars(
        select(TextReceived)
        .where(
            TextReceived.number.in_(list(numbers_since)),
            TextReceived.received_at >= min(numbers_since.values()),
        )
        .order_by(TextReceived.received_at, TextReceived.id)
    )
    return {
        row.number: row
        for row in rows
        if row.number is not None and row.received_at >= numbers_since[row.number]
    }


def payload(text: TextReceived, region: str) -> dict[str, Any]:
    customer = text.customer
    return {
        "message_sid": text.message_sid,
        "from": text.number,
        "display": numbers.display(text.number, region) if text.number else text.raw_from,
        "line": text.line,
        "body": text.body,
        "keyword": text.keyword or None,
        "customer": {"id": customer.id, "name": customer.name} if customer else None,
        "call_sid": text.call.call_sid if text.call else None,
        "received_at": iso(text.received_at),
    }


def _answered_call(session: Session, number: str, at: datetime) -> Call | None:
    return session.scalar(
        select(Call)
        .where(
            Call.from_number == number,
            Call.is_missed.is_(True),
            Call.received_at <= at,
            Call.received_at >= at - ANSWERS_WITHIN,
        )
        .order_by(Call.received_at.desc(), Call.id.desc())
        .limit(1)
    )
