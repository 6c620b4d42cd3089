"""What each Twilio webhook asks us to record, read from its parameters alone.

The same functions serve a webhook as it arrives and one applied later from the spool, so a
spooled webhook is recorded exactly as it would have been live.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from email.utils import parsedate_to_datetime

from sqlalchemy.orm import Session

from .. import callbacks, calls, ringing, texts, textstatus
from ..db import utcnow


def ring_of(form: Mapping[str, str], received_at: datetime, *, quiet: bool = False) -> ringing.Ring:
    """The call a voice webhook announces."""
    return ringing.Ring(
        form["CallSid"],
        form.get("From", ""),
        form.get("To", ""),
        form.get("Direction", "inbound"),
        received_at,
        quiet=quiet,
    )


def dial_missed(form: Mapping[str, str]) -> bool:
    """Whether a ``<Dial action>`` says nobody at the desk took the call."""
    return calls.dial_missed(form.get("DialCallStatus", ""))


def ends_call(route: str, form: Mapping[str, str]) -> bool:
    """Whether this webhook reports the inbound call itself as over."""
    if route == "dial":
        return True
    return (
        route == "status"
        and not form.get("ParentCallSid")
        and calls.is_final(form.get("CallStatus", ""))
    )


def apply_status(session: Session, form: Mapping[str, str], region: str, today: date) -> int | None:
    """A status callback, of the call itself or of its desk leg (``today``: the business's
    date, for the cards it announces)."""
    return calls.callback(
        session,
        form["CallSid"],
        form.get("CallStatus", ""),
        region,
        parent_call_sid=form.get("ParentCallSid") or None,
        raw_from=form.get("From", ""),
        raw_to=form.get("To", ""),
        direction=form.get("Direction", "inbound"),
        at=timestamp(form.get("Timestamp")),
        duration=to_int(form.get("CallDuration")),
        today=today,
    )


def apply_dial(
    session: Session,
    form: Mapping[str, str],
    region: str,
    today: date,
    at: datetime | None = None,
) -> bool:
    """The ``<Dial action>``: how the desk leg ended, at ``at`` (when it was received: Twilio
    sends no timestamp with it)."""
    return calls.dial_finished(
        session,
        form["CallSid"],
        form.get("DialCallStatus", ""),
        region,
        duration=to_int(form.get("DialCallDuration")),
        raw_from=form.get("From", ""),
        raw_to=form.get("To", ""),
        at=at,
        today=today,
    )


def apply_voicemail(session: Session, form: Mapping[str, str], region: str, today: date) -> None:
    """The recording action: the caller left a message."""
    calls.voicemail_left(
        session,
        form["CallSid"],
        form.get("RecordingUrl", ""),
    )


def apply_text(session: Session, form: Mapping[str, str], region: str, at: datetime) -> None:
    """A text to one of our numbers (``/twilio/sms``), received at ``at``."""
    texts.receive(
        session,
        message_sid=form["MessageSid"],
        raw_from=form["From"],
        raw_to=form.get("To", ""),
        body=form.get("Body", ""),
        opt_out_type=form.get("OptOutType", ""),
        region=region,
        at=at,
    )


def apply_callback_status(session: Session, form: Mapping[str, str], region: str) -> None:
    """A status of one of a call-back's legs (``/twilio/callback/status``); ``id`` is the
    call-back's, from the URL Twilio was given."""
    callback_id = int(form["id"])
    status = form.get("CallStatus", "")
    if form.get("ParentCallSid"):
        duration = to_int(form.get("CallDuration"))
        callbacks.customer_leg(session, callback_id, status, form["CallSid"], duration, region)
    else:
        callbacks.staff_leg(session, callback_id, status, region)


def apply_text_status(session: Session, form: Mapping[str, str]) -> None:
    """A text's status callback (``/twilio/text-status``); ``id`` is the text's, from the URL
    Twilio was given."""
    textstatus.apply_status(
        session,
        int(form["id"]),
        form["MessageSid"],
        form.get("MessageStatus", ""),
        to_int(form.get("ErrorCode")),
        utcnow(),
    )


def route_of(path_route: str, form: Mapping[str, str]) -> str:
    """Which webhook this is. ``/twilio/status`` also receives the ``<Dial action>`` and the
    recording action of TwiML issued before they had routes of their own."""
    if path_route == "status":
        if "RecordingUrl" in form:
            return "voicemail"
        if "DialCallStatus" in form:
            return "dial"
    return path_route


def to_int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def timestamp(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
