"""The parameters Twilio always sends on each ``/twilio/*`` route, and the shape of each.

A valid signature does not make the parameters well formed: Twilio's signature joins names and
values without separators (``CallSid`` + value + ``CallStatus`` + value ...), so a captured
webhook can be re-split, ``CallSid=CA...CallStatusringing`` with no ``CallStatus``, and still
verify. Checking that every parameter Twilio always sends is present, once, and shaped as Twilio
shapes it refuses such a request before anything is recorded or spooled. Parameters we do not
know are never refused: Twilio adds new ones over time (docs/security.md).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable

from flask import abort, current_app, request
from werkzeug.datastructures import MultiDict

from .. import metrics

log = logging.getLogger(__name__)

# Sent on every request about a call (Twilio, "TwiML Voice: Twilio's Request").
ALWAYS = ("CallSid", "AccountSid", "From", "To", "CallStatus", "Direction", "ApiVersion")
# Each route: those, and what its own request is about.
BY_ROUTE = {
    "voice": ALWAYS,
    "status": ALWAYS,
    "dial": (*ALWAYS, "DialCallStatus"),
    "voicemail": (*ALWAYS, "RecordingUrl"),
    # The desk leg's <Number url>, requested once someone answers: a call of its own.
    "whisper": (*ALWAYS, "ParentCallSid"),
    # A call-back's legs: calls we placed (outbound-api), and the customer's leg they dial.
    "callback": ALWAYS,
    "callback_status": ALWAYS,
    # A text to one of our numbers (Twilio, "Messaging webhooks").
    "sms": ("MessageSid", "AccountSid", "From", "To", "ApiVersion"),
    # A text we sent, moving along (Twilio, "Outbound Message Status in Status Callbacks").
    "text_status": ("MessageSid", "AccountSid", "MessageStatus", "ApiVersion"),
}
CALL_STATUSES = (
    "queued",
    "initiated",
    "ringing",
    "in-progress",
    "completed",
    "busy",
    "no-answer",
    "canceled",
    "failed",
)
DIAL_STATUSES = ("completed", "answered", "busy", "no-answer", "failed", "canceled")
DIRECTIONS = (
    "inbound",
    "outbound-api",
    "outbound-dial",
    "trunking-originating",
    "trunking-terminating",
)
# How Twilio says a caller ID was withheld; numbers.py also knows the keypad-spelled digits.
WITHHELD_WORDS = ("anonymous", "restricted", "unknown", "unavailable", "private", "blocked")

_CALL_SID = re.compile(r"CA[0-9a-fA-F]{32}")
_MESSAGE_SID = re.compile(r"(SM|MM)[0-9a-fA-F]{32}")
_ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
_API_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}")
# E.164 as Twilio sends it, or a number as a carrier or a PBX formats it ("(312) 555-0187"):
# numbers.normalise reads them all.
_NUMBER = re.compile(r"[+(]?[0-9][0-9 ().\-]{0,29}")
# A SIP URI or a client identity: printable, no spaces or control characters, and short enough
# for the column that keeps the raw caller ID (100 characters).
_ADDRESS = re.compile(r"(?i:sip|client):[!-~]{1,90}")
# Twilio adds message statuses over time ("read", "partially_delivered"): a word, not a list.
_WORD = re.compile(r"[a-z_]{1,30}")
_RECORDING_URL = re.compile(r"https?://[!-~]{1,490}")


def _caller(value: str) -> bool:
    # Empty: a withheld caller, as some carriers send it.
    return (
        value == ""
        or value.lower() in WITHHELD_WORDS
        or bool(_NUMBER.fullmatch(value) or _ADDRESS.fullmatch(value))
    )


def _one_of(allowed: tuple[str, ...]) -> Callable[[str], bool]:
    return lambda value: value in allowed


SHAPES: dict[str, tuple[Callable[[str], bool], str]] = {
    "CallSid": (lambda v: bool(_CALL_SID.fullmatch(v)), "CA and 32 hex digits"),
    "ParentCallSid": (lambda v: bool(_CALL_SID.fullmatch(v)), "CA and 32 hex digits"),
    "AccountSid": (lambda v: bool(_ACCOUNT_SID.fullmatch(v)), "AC and 32 hex digits"),
    "ApiVersion": (lambda v: bool(_API_VERSION.fullmatch(v)), "a date such as 2010-04-01"),
    "CallStatus": (_one_of(CALL_STATUSES), "one of Twilio's call statuses"),
    "DialCallStatus": (_one_of(DIAL_STATUSES), "one of Twilio's dial statuses"),
    "Direction": (_one_of(DIRECTIONS), "one of Twilio's call directions"),
    "From": (_caller, "a number, a withheld word, sip: or client:"),
    "To": (_caller, "a number, sip: or client:"),
    "RecordingUrl": (lambda v: bool(_RECORDING_URL.fullmatch(v)), "an http(s) URL"),
    "MessageSid": (lambda v: bool(_MESSAGE_SID.fullmatch(v)), "SM or MM and 32 hex digits"),
    "MessageStatus": (lambda v: bool(_WORD.fullmatch(v)), "a status word"),
    "ErrorCode": (lambda v: v == "" or v.isdigit() and len(v) <= 6, "a number"),
}


def problems(route: str, form: MultiDict[str, str], account_sid: str | None = None) -> list[str]:
    """What is wrong with the parameters of a signed request to ``/twilio/<route>``, for the
    log and the 400 answer: a parameter Twilio always sends that is missing, any parameter sent
    twice, a known parameter out of shape, an AccountSid other than ``account_sid`` (when
    given). Empty when they are all as Twilio sends them."""
    found = [f"Missing {name}" for name in BY_ROUTE[route] if name not in form]
    found += [f"{name} sent more than once" for name in _repeated(form)]
    for name, (fits, shape) in SHAPES.items():
        value = form.get(name)
        if value is not None and not fits(value):
            found.append(f"{name} is not {shape}")
    given = form.get("AccountSid")
    if account_sid and given is not None and given != account_sid:
        found.append("AccountSid is not this service's account (TWILIO_ACCOUNT_SID)")
    return found


def _repeated(form: MultiDict[str, str]) -> Iterable[str]:
    # Twilio never repeats a parameter; the signature counts a repeated value once, so a repeat
    # is a way to make one signed request read two ways.
    return sorted(name for name, values in form.lists() if len(values) > 1)


def check(route: str) -> None:
    """Refuse (400) the current signed request when its parameters are not as Twilio sends them
    on ``route`` (``problems``), before anything is recorded or spooled; counted as
    ``malformed`` and logged with the CallSid (or MessageSid) it claims."""
    found = problems(route, request.form, current_app.config.get("TWILIO_ACCOUNT_SID"))
    if not found:
        return
    sid = (request.form.get("CallSid") or request.form.get("MessageSid") or "")[:80]
    log.warning("refused %s, sid %r: %s", request.path, sid, "; ".join(found))
    metrics.webhook_outcome(
        request.url_rule.rule if request.url_rule else request.path, "malformed"
    )
    abort(400, description=f"{'; '.join(found)}.")
