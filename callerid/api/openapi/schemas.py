"""The named schemas of the OpenAPI description (``#/components/schemas/...``)."""

from __future__ import annotations

from typing import Any

from ...phones import DISPLAY_MAX
from ...webhooks.payloads import EVENT_TYPES, FORMATS
from .parts import (
    DESK_TEXT,
    NUMBER_OR_NULL,
    PERSON,
    TEXT,
    TIME,
    _nullable,
    _object,
    _ref,
)

SCHEMAS: dict[str, Any] = {
    "Error": _object(
        {
            "error": _object(
                {"code": {"type": "integer"}, "name": TEXT, "message": {"type": "string"}}
            )
        }
    ),
    "Named": _object({"id": {"type": "integer"}, "name": TEXT}),
    "Line": _nullable(_object({"number": TEXT, "label": TEXT})),
    "Call": _object(
        {
            "call_sid": TEXT,
            "from": _nullable(TEXT),
            "caller_kind": TEXT,
            "line": _ref("Line"),
            "direction": TEXT,
            "status": TEXT,
            "is_missed": {"type": "boolean"},
            "customer": _nullable(_ref("Named")),
            "matched_by": _nullable(TEXT),
            "caller": _nullable(TEXT),
            "answered_by": TEXT,
            "outcome": TEXT,
            "duration": NUMBER_OR_NULL,
            "received_at": TIME,
            "answered_at": TIME,
            "ended_at": TIME,
            "voicemail_url": _nullable(TEXT),
        }
    ),
    # do_not_contact: asked never to be called back or texted by us (managers set it).
    "CustomerSummary": _object({**PERSON, "email": TEXT, "do_not_contact": {"type": "boolean"}}),
    "Customer": {
        "allOf": [
            _ref("CustomerSummary"),
            _object(
                {
                    **DESK_TEXT,
                    "birthday": _nullable(TEXT),
                    "anniversary": _nullable(TEXT),
                    "occasion": _nullable(TEXT),
                    "created_at": TIME,
                    "updated_at": TIME,
                    "timeline": {"type": "array", "items": {"type": "object"}},
                    "calls_url": TEXT,
                }
            ),
        ]
    },
    # What a card shows of its customer (directory.customer_details).
    "CardCustomer": _object(
        {**PERSON, **DESK_TEXT, "recent_calls": {"type": "array", "items": {"type": "object"}}}
    ),
    "CustomerChanges": {
        "type": "object",
        "example": {"name": "Anna Moors", "numbers": ["+1 415 555 0134"], "vip": True},
        "description": "Any of the customer's fields (README, 'A customer'); unknown ones are 400.",
        "properties": {
            "name": {"type": "string", "maxLength": 200},
            "salutation": {"type": "string", "maxLength": 40},
            "preferred_name": {"type": "string", "maxLength": 100},
            "email": {"type": "string", "maxLength": 200},
            "notes": {"type": "string", "maxLength": 4000},
            "preferences": {"type": "string", "maxLength": 4000},
            "alerts": {"type": "string", "maxLength": 300},
            "pronunciation": {"type": "string", "maxLength": 120},
            "vip": {"type": "boolean"},
            "do_not_greet": {"type": "boolean"},
            "do_not_contact": {"type": "boolean"},
            "birthday": _nullable({"type": "string", "format": "date"}),
            "anniversary": _nullable({"type": "string", "format": "date"}),
            "tags": {"type": "array", "items": {"type": "string"}},
            "numbers": {"type": "array", "items": {"type": "string"}},
            "add_numbers": {"type": "array", "items": {"type": "string"}},
            "remove_numbers": {"type": "array", "items": {"type": "string"}},
        },
    },
    "Webhook": _object(
        {
            "id": {"type": "integer"},
            "name": TEXT,
            "url": TEXT,
            "format": {"enum": list(FORMATS)},
            "event_types": {"type": "array", "items": {"enum": list(EVENT_TYPES)}},
            "share_alerts": {"type": "boolean"},
            "share_notes": {"type": "boolean"},
            "in_order": {"type": "boolean"},
            "is_enabled": {"type": "boolean"},
            "disabled_reason": _nullable(TEXT),
            "is_paused": {"type": "boolean"},
            "last_success_at": TIME,
        }
    ),
    "WebhookChanges": {
        "type": "object",
        "example": {"url": "https://hooks.example.com/callerid", "event_types": ["call.missed"]},
        "description": "Any of an endpoint's fields; url is required to add one; unknown ones "
        "are 400.",
        "properties": {
            "url": {"type": "string", "maxLength": 500},
            "name": _nullable({"type": "string", "maxLength": 80}),
            "format": {"enum": list(FORMATS)},
            "event_types": {"type": "array", "items": {"enum": list(EVENT_TYPES)}, "minItems": 1},
            "share_alerts": {"type": "boolean"},
            "share_notes": {"type": "boolean"},
            "in_order": {"type": "boolean"},
        },
    },
    "Delivery": _object(
        {
            "id": {"type": "integer"},
            "kind": TEXT,
            "webhook_id": TEXT,
            "status": TEXT,
            "attempts": {"type": "integer"},
            "last_status": NUMBER_OR_NULL,
            "latency_ms": NUMBER_OR_NULL,
            "response": _nullable(TEXT),
            "next_attempt_at": TIME,
            "delivered_at": TIME,
        }
    ),
    # A call-back to a caller (callbacks.payload).
    "Callback": _object(
        {
            "callback_id": {"type": "integer"},
            "direction": {"const": "outbound"},
            "status": {
                "enum": ["starting", "calling-staff", "calling-customer", "answered", "ended"]
            },
            "outcome": _nullable(TEXT),
            "detail": _nullable(TEXT),
            "to": _nullable(TEXT),
            "display": TEXT,
            "customer": _nullable(_ref("Named")),
            "by": TEXT,
            "line": TEXT,
            "call_sid": _nullable(TEXT),
            "started_at": TIME,
            "answered_at": TIME,
            "ended_at": TIME,
            "duration": NUMBER_OR_NULL,
            "words": TEXT,
        }
    ),
    # What a phone system shows for a caller (phones.lookup).
    "Lookup": _object(
        {
            "number": _nullable(TEXT),
            "found": {"type": "boolean"},
            "customer_id": NUMBER_OR_NULL,
            "name": _nullable(TEXT),
            "display_name": {"type": "string", "maxLength": DISPLAY_MAX},
            "greeting": TEXT,
            "vip": {"type": "boolean"},
            "alerts": TEXT,
            "url": _nullable(TEXT),
        }
    ),
    "Card": {
        "type": "object",
        "properties": {
            "greeting": TEXT,
            "customer": _nullable(_ref("CardCustomer")),
            "also": {"type": "array", "items": _ref("Named")},
        },
        "required": ["greeting", "customer", "also"],
    },
}
