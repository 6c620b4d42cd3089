"""The forms Twilio posts on a call: the incoming-call webhook, call-progress callbacks and a
finished leg's lengths, with the fields its real requests carry."""

from __future__ import annotations

import math
import secrets
from datetime import UTC, datetime
from email.utils import format_datetime

import phonenumbers

ACCOUNT_SID = "AC" + "c0ffee" * 5 + "00"
API_VERSION = "2010-04-01"


def voice_params(call_sid: str, raw_from: str, to: str) -> dict[str, str]:
    """The parameters of Twilio's incoming-call webhook, as its real requests carry them: the
    place names it does not know are sent as empty strings (and signed all the same)."""
    params = {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": API_VERSION,
        "CallSid": call_sid,
        "CallStatus": "ringing",
        "Direction": "inbound",
        "From": raw_from,
        "Caller": raw_from,
        "To": to,
        "Called": to,
    }
    for side, number in (("From", raw_from), ("Caller", raw_from), ("To", to), ("Called", to)):
        for part in ("City", "State", "Zip"):
            params[side + part] = ""
        params[side + "Country"] = _country(number)
    return params


def progress(status: str, sequence: int) -> dict[str, str]:
    """The fields every call-progress callback carries."""
    return {
        "CallStatus": status,
        "CallbackSource": "call-progress-events",
        "SequenceNumber": str(sequence),
        "Timestamp": format_datetime(datetime.now(UTC)),
    }


def durations(seconds: int) -> dict[str, str]:
    """A finished leg's length: CallDuration in seconds, Duration in billed minutes."""
    return {"CallDuration": str(seconds), "Duration": str(math.ceil(seconds / 60))}


def new_call_sid() -> str:
    return "CA" + secrets.token_hex(16)


def _country(number: str) -> str:
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(number)) or ""
    except phonenumbers.NumberParseException:
        return ""
