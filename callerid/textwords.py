"""How a "sorry we missed you" text reads to people: where it stands in one sentence, Twilio's
error codes in words, and the texts to show on a missed call or a customer's page."""

from __future__ import annotations

from datetime import datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from .business_settings import BusinessSettings, example_text
from .directory.cards import NEUTRAL_GREETING, greeting
from .models import Customer, TextSent

# Twilio's refusals and delivery errors for texts, in words a manager can act on
# (twilio.com/docs/api/errors/<code>).
ERRORS = {
    20003: "Twilio refused our credentials: check TWILIO_ACCOUNT_SID and the auth token "
    "or API key.",
    21211: "Twilio says the number is not a valid phone number.",
    21408: "This Twilio account may not text that country (Messaging geographic permissions).",
    21606: "The sender cannot text this number: the line is not SMS-capable. Set "
    "CALLERID_TEXT_FROM or TWILIO_MESSAGING_SERVICE_SID.",
    21610: "The customer unsubscribed from our texts (they replied STOP): no more texts.",
    21612: "Twilio cannot text this number from that sender.",
    21614: "The number is not a mobile number: it cannot receive texts.",
    30003: "The phone was unreachable (switched off or out of coverage).",
    30004: "The text was blocked by the customer's phone or carrier.",
    30005: "The number is unknown to its carrier: it may no longer exist.",
    30006: "The number is a landline or cannot receive texts.",
    30007: "The carrier filtered the text as spam.",
    30008: "The carrier did not say why the text was not delivered.",
    30034: "US texts from this number are blocked: it needs a registered A2P 10DLC campaign.",
}
STATUS_WORDS = {
    "scheduled": "Text due",
    "sending": "Texting",
    "accepted": "Text queued",
    "queued": "Text queued",
    "sent": "Text sent",
    "delivered": "Text delivered",
    "read": "Text read",
}


def words_for_error(code: int) -> str:
    return ERRORS.get(code) or f"Twilio error {code} (twilio.com/docs/api/errors/{code})."


def words(row: TextSent, zone: tzinfo | None) -> str:
    """ "Text delivered", "Not texted: it rang under 5 seconds", "Text failed: ...". Without
    ``zone`` (an event, read in any time zone) a due text says "Text scheduled"."""
    if row.status == "scheduled":
        return f"Text due at {row.due_at.astimezone(zone):%H:%M}" if zone else "Text scheduled"
    if row.status in ("cancelled", "dropped"):
        return f"Not texted: {row.reason}"
    if row.status == "held":
        return f"Text {row.reason}"
    if row.status == "unknown":
        return "Text sent, but Twilio did not answer in time: it may not have gone out"
    if row.status in ("failed", "undelivered", "canceled"):
        return f"Text {row.status}: {row.error or 'Twilio did not say why.'}"
    return STATUS_WORDS.get(row.status, f"Text {row.status}")


def kind(row: TextSent) -> str:
    """How a badge shows it: "ok", "waiting" or "problem"."""
    if row.status in ("delivered", "read", "sent"):
        return "ok"
    if row.status in ("failed", "undelivered", "canceled", "unknown"):
        return "problem"
    return "waiting"


def latest_to(session: Session, numbers_since: dict[str, datetime]) -> dict[str, TextSent]:
    """The latest text for each number's missed calls since its time (the missed-calls list)."""
    if not numbers_since:
        return {}
    rows = session.scalars(
        select(TextSent)
        .where(
            TextSent.number.in_(list(numbers_since)),
            TextSent.created_at >= min(numbers_since.values()),
        )
        .order_by(TextSent.created_at, TextSent.id)
    )
    return {row.number: row for row in rows if row.created_at >= numbers_since[row.number]}


def of_customer(session: Session, customer_id: int, limit: int = 20) -> list[TextSent]:
    """The texts for the customer's missed calls, newest first."""
    return list(
        session.scalars(
            select(TextSent)
            .where(TextSent.customer_id == customer_id)
            .order_by(TextSent.created_at.desc(), TextSent.id.desc())
            .limit(limit)
        )
    )


def compose(settings: BusinessSettings, customer: Customer | None) -> str:
    """The text from the manager's template, as the settings page's preview shows it."""
    name = greeting(customer) if customer is not None else NEUTRAL_GREETING
    name = "" if name == NEUTRAL_GREETING else name.removeprefix("Welcome back").lstrip(",")
    return example_text(settings, name.strip()).strip()[:1600]
