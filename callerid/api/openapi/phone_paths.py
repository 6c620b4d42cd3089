"""A phone system's routes under /api/ (a ``phone`` token only)."""

from __future__ import annotations

from typing import Any

from ...phones import CALL_ID_MAX, DISPLAY_MAX, EVENTS
from .parts import (
    PHONE,
    TEXT,
    _nullable,
    _object,
    _operation,
    _query,
    _ref,
)


def phone_paths() -> dict[str, Any]:
    """/api/phone/*: a phone system's routes (api/phone.py)."""
    event = {
        **_object(
            {
                "event": {"enum": list(EVENTS)},
                "call_id": {"type": ["string", "integer"], "maxLength": CALL_ID_MAX},
                "from": {"type": ["string", "integer", "null"]},
                "to": {"type": ["string", "integer", "null"]},
                "answered_by": {"type": ["string", "integer", "null"]},
                "at": _nullable({"type": "string", "format": "date-time"}),
            },
            required=False,
        ),
        "required": ["event", "call_id"],
        "example": {"event": "ringing", "call_id": "1234", "from": "+14155550134"},
    }
    recorded = {
        **_object(
            {
                "recorded": {"type": "boolean"},
                "source": TEXT,
                "call_id": TEXT,
                "reason": TEXT,
                "call_sid": TEXT,
                "status": TEXT,
                "answered_by": TEXT,
                "is_missed": {"type": "boolean"},
            },
            required=False,
        ),
        "required": ["recorded", "source", "call_id"],
    }
    return {
        "/api/phone/events": {
            "post": _operation(
                "A phone system's call event (ringing, answered, ended): recorded and shown as "
                "Twilio's are; calls from an internal extension are not recorded.",
                PHONE,
                {200: recorded},
                body=event,
            )
        },
        "/api/phone/lookup": {
            "get": _operation(
                "The caller's name for a phone system's display. With format=text: the display "
                "name alone as text/plain, an empty 200 whenever there is none, errors of the "
                "look-up included (the request gate's 400 and a refused token stay JSON).",
                PHONE,
                {200: _ref("Lookup")},
                errors=(429,),
                parameters=(
                    {
                        **_query("number", TEXT, "the caller's number in any format"),
                        "required": True,
                        "example": "+1 415 555 0134",
                    },
                    _query("format", {"enum": ["json", "text"]}),
                ),
                alternatives={"text/plain": {"type": "string", "maxLength": DISPLAY_MAX}},
            )
        },
    }
