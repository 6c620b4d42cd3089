"""GET /api/openapi.json: an OpenAPI 3.1 description of every route under /api/ and of the
board's JSON routes, with every status each can answer (``tests/api/test_openapi.py`` fails on a
route left out, and schemathesis checks the answers against it)."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue

from ...inputs import MAX_ID
from ...phones import CALL_ID_MAX, DISPLAY_MAX, EVENTS
from ...webhooks.payloads import EVENT_TYPES, FORMATS
from .. import bp

JSON = "application/json"
STAFF, MANAGER, BOARD = "staff", "manager", "board"  # tags: who may call it, and the board's
PHONE = "phone"  # a phone system's routes: a ``phone`` token only (403 for any other, or a login)
# Answers any route can give: the request gate's 400 (a malformed number or text, anywhere), and
# 503 when the database is overloaded (errors.py).
ALWAYS = (400, 503)
REASONS = {
    400: "Malformed: a parameter, path or body that cannot be read (the message says which).",
    401: "No session and no valid bearer token.",
    403: "Not allowed: staff asking for a managers' route, or a session write without the "
    "page's CSRF token or from another origin.",
    404: "No such row.",
    409: "The state of the call does not allow it (the message says why).",
    410: "The customer's personal data was erased.",
    413: "The body is larger than the server accepts.",
    429: "Too many requests for this token; retry after Retry-After seconds.",
    503: "The database is busy; retry after Retry-After seconds.",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"oneOf": [schema, {"type": "null"}]}


TEXT, NUMBER_OR_NULL, TIME = (
    {"type": "string"},
    {"type": ["integer", "null"]},
    _nullable({"type": "string", "format": "date-time"}),
)
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
CALL_SID = {"type": "string", "minLength": 1, "maxLength": 64}


def _object(properties: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required else [],
    }


# A customer as every answer names them; DESK_TEXT: what the desk reads and writes on a card.
PERSON = {
    "id": {"type": "integer"},
    "name": TEXT,
    "salutation": TEXT,
    "preferred_name": TEXT,
    "tags": {"type": "array", "items": TEXT},
    "vip": {"type": "boolean"},
    "do_not_greet": {"type": "boolean"},
    "numbers": {"type": "array", "items": TEXT},
    "calls_count": {"type": "integer"},
    "last_call_at": TIME,
}
DESK_TEXT = {"notes": TEXT, "preferences": TEXT, "alerts": TEXT, "pronunciation": TEXT}

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
    "CustomerSummary": _object({**PERSON, "email": TEXT}),
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


def _query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def _path(name: str, schema: dict[str, Any], example: Any) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema, "example": example}


def _operation(
    summary: str,
    tag: str,
    ok: dict[int, dict[str, Any] | None],
    *,
    errors: tuple[int, ...] = (),
    parameters: tuple[dict[str, Any], ...] = (),
    body: dict[str, Any] | None = None,
    content: str = JSON,
    alternatives: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One operation: its successes (status -> body schema, None for no body; ``alternatives``:
    other content types they may come in, with their schemas), and its errors: those given,
    those of every route (``ALWAYS``), 401 for an anonymous caller, 403 for a managers' or a
    phone system's route or a session write, 413 for a body. A phone system's route takes
    only a bearer token."""
    codes = {*errors, *ALWAYS, 401}
    if tag in {MANAGER, PHONE} or body is not None:
        codes.add(403)
    if body is not None:
        codes.add(413)
    responses: dict[str, Any] = {}
    for status, schema in ok.items():
        answer: dict[str, Any] = {"description": "Done."}
        if schema is not None:
            answer["content"] = {
                content: {"schema": schema},
                **{kind: {"schema": other} for kind, other in (alternatives or {}).items()},
            }
        responses[str(status)] = answer
    for status in sorted(codes):
        responses[str(status)] = {
            "description": REASONS[status],
            "content": {JSON: {"schema": _ref("Error")}},
        }
        if status == 429:
            responses[str(status)]["headers"] = {
                "Retry-After": {"required": True, "schema": {"type": "integer", "minimum": 1}}
            }
    operation: dict[str, Any] = {"summary": summary, "tags": [tag], "responses": responses}
    if tag == PHONE:
        operation["security"] = [{"bearer": []}]
    if parameters:
        operation["parameters"] = list(parameters)
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {JSON: {"schema": body}}}
    return operation


PAGE = (
    _query("limit", {"type": "integer", "minimum": 1}, "at most this many (capped)"),
    _query("cursor", TEXT, "the next_cursor of the previous page"),
)
LOG_FILTERS = (
    _query("since", TEXT, "an ISO 8601 date or time"),
    _query("until", TEXT, "an ISO 8601 date or time, excluded"),
    _query("tz", TEXT, "an IANA time zone for since and until without an offset"),
    _query("customer_id", {"type": "integer", "minimum": 0}),
    _query("line_id", {"type": "integer", "minimum": 0}),
    _query("status", TEXT, "a Twilio status, missed or answered"),
    _query("caller", {"enum": ["new", "returning", "unknown"]}),
    _query("outcome", {"enum": ["booking", "question", "complaint", "other", "none"]}),
    _query("answered_by", TEXT),
)
CALL_LOG = _object(
    {
        "calls": {"type": "array", "items": _ref("Call")},
        "next": _nullable(TEXT),
        "next_cursor": _nullable(TEXT),
    }
)
CALLED_BACK = _object(
    {
        "call_sid": TEXT,
        "called_back_at": TIME,
        "called_back_by": TEXT,
        "marked": {"type": "integer"},
    }
)
CUSTOMER_ID, SID = _path("customer_id", ID, 1), _path("call_sid", CALL_SID, "CA" + "0" * 32)
NOTE = {
    **_object(
        {"body": {"type": "string", "maxLength": 2000}, "outcome": {"type": "string"}},
        required=False,
    ),
    "example": {"body": "Booked a table for four", "outcome": "booking"},
}


def _api_paths() -> dict[str, Any]:
    return {
        "/api/openapi.json": {
            "get": {
                "summary": "This description.",
                "tags": ["public"],
                "security": [],
                "responses": {
                    "200": {"description": "OpenAPI 3.1", "content": {JSON: {"schema": {}}}}
                },
            }
        },
        "/api/callers/{raw_number}": {
            "get": _operation(
                "The card for a number written in any format.",
                STAFF,
                {200: _ref("Card")},
                # 404: a "number" the route cannot hold (slashes alone, a line break inside:
                # Werkzeug's path converter stops at one) matches no route.
                errors=(404,),
                parameters=(_path("raw_number", TEXT, "+1 415 555 0134"),),
            )
        },
        "/api/calls": {
            "get": _operation(
                "The call log, newest first; follow next.",
                STAFF,
                {200: CALL_LOG},
                parameters=(*LOG_FILTERS, *PAGE),
            )
        },
        "/api/calls.csv": {
            "get": _operation(
                "The call log as CSV, with the filters of /api/calls.",
                MANAGER,
                {200: {"type": "string"}},
                parameters=(*LOG_FILTERS, _query("format", {"enum": ["excel"]})),
                content="text/csv",
            )
        },
        "/api/calls/{call_sid}/notes": {
            "post": _operation(
                "Add a note and/or an outcome to a call.",
                STAFF,
                {
                    201: _object(
                        {"call_sid": TEXT, "outcome": TEXT, "note": _nullable({"type": "object"})}
                    )
                },
                errors=(404,),
                parameters=(SID,),
                body=NOTE,
            )
        },
        "/api/customers": {
            "get": _operation(
                "Search customers by name, e-mail or any number format.",
                MANAGER,
                {
                    200: _object(
                        {
                            "customers": {"type": "array", "items": _ref("CustomerSummary")},
                            "page": {"type": "integer"},
                            "limit": {"type": "integer"},
                            "total": {"type": "integer"},
                            "next_page": NUMBER_OR_NULL,
                            "next": _nullable(TEXT),
                        }
                    )
                },
                parameters=(
                    _query("q", TEXT),
                    _query("sort", {"enum": ["name", "calls", "last_call", "newest"]}),
                    _query("page", {"type": "integer", "minimum": 1}),
                    _query("limit", {"type": "integer", "minimum": 1}),
                ),
            ),
            "post": _operation(
                "Add a customer.",
                MANAGER,
                {201: _ref("Customer")},
                body=_ref("CustomerChanges"),
            ),
        },
        "/api/customers/{customer_id}": {
            "get": _operation(
                "A customer with their latest calls.",
                MANAGER,
                {200: _ref("Customer")},
                errors=(404, 410),
                parameters=(CUSTOMER_ID,),
            ),
            "patch": _operation(
                "Change a customer.",
                MANAGER,
                {200: _ref("Customer")},
                errors=(404, 410),
                parameters=(CUSTOMER_ID,),
                body=_ref("CustomerChanges"),
            ),
            "delete": _operation(
                "Erase a customer's personal data (statistics stay).",
                MANAGER,
                {200: _object({"erased": {"type": "object"}})},
                errors=(404, 410),
                parameters=(CUSTOMER_ID,),
            ),
        },
        "/api/customers/{customer_id}/merge": {
            "post": _operation(
                "Move this customer's numbers, calls and notes to another, who stays.",
                MANAGER,
                {200: _object({"customer": _ref("Customer"), "merged": {"type": "object"}})},
                errors=(404, 410),
                parameters=(CUSTOMER_ID,),
                body=_object({"into": ID}),
            )
        },
        "/api/insights": {
            "get": _operation(
                "Calls per day and hour, answer rate, returning share, top callers.",
                MANAGER,
                {200: {"type": "object", "required": ["since", "until", "total_calls"]}},
                parameters=(_query("since", TEXT), _query("until", TEXT), _query("tz", TEXT)),
            )
        },
        "/api/missed": {
            "get": _operation(
                "Missed calls waiting to be called back, grouped per caller.",
                STAFF,
                {
                    200: _object(
                        {"since": TIME, "groups": {"type": "array", "items": {"type": "object"}}}
                    )
                },
                parameters=(_query("since", TEXT), _query("limit", {"type": "integer"})),
            )
        },
        "/api/missed/count": {
            "get": _operation(
                "How many callers and calls wait to be called back.",
                STAFF,
                {
                    200: _object(
                        {
                            "open_callers": {"type": "integer"},
                            "open_calls": {"type": "integer"},
                            "open": {"type": "integer"},
                        }
                    )
                },
            )
        },
        "/api/missed/{call_sid}/called-back": {
            "post": _operation(
                "Mark a missed caller called back.",
                STAFF,
                {200: CALLED_BACK},
                errors=(403, 404, 409),
                parameters=(SID,),
            )
        },
        "/api/missed/{call_sid}/called-back/undo": {
            "post": _operation(
                "Undo a 'called back': the calls it marked wait again.",
                STAFF,
                {200: _object({"call_sid": TEXT, "reopened": {"type": "integer"}})},
                errors=(403, 404, 409),
                parameters=(SID,),
            )
        },
        "/api/calls/{call_sid}/call-back": {
            "post": _operation(
                "Call the caller of this call back: 202 at once, Twilio is asked beside it; "
                "409 with the reason when it cannot start (call-backs off, Twilio not set up, "
                "a withheld number, one already under way).",
                STAFF,
                {202: _object({"callback": _ref("Callback")})},
                errors=(403, 404, 409),
                parameters=(SID,),
            )
        },
        "/api/callbacks/{callback_id}": {
            "get": _operation(
                "How a call-back goes.",
                STAFF,
                {200: _object({"callback": _ref("Callback")})},
                errors=(404,),
                parameters=(_path("callback_id", ID, 1),),
            )
        },
        "/api/audit": {
            "get": _operation(
                "Who exported, erased, merged or changed what, newest first.",
                MANAGER,
                {
                    200: _object(
                        {
                            "entries": {"type": "array", "items": {"type": "object"}},
                            "next": _nullable(TEXT),
                            "next_cursor": _nullable(TEXT),
                        }
                    )
                },
                parameters=(_query("action", TEXT), *PAGE),
            )
        },
    }


def _phone_paths() -> dict[str, Any]:
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


def _webhook_paths() -> dict[str, Any]:
    """/api/webhooks (managers): outbound webhook endpoints (api/webhooks.py)."""
    endpoint = _path("endpoint_id", ID, 1)
    one = (endpoint,)
    resending = {"allOf": [_ref("Webhook"), _object({"resending": {"type": "integer"}})]}
    return {
        "/api/webhooks": {
            "get": _operation(
                "Every outbound webhook endpoint.",
                MANAGER,
                {200: _object({"endpoints": {"type": "array", "items": _ref("Webhook")}})},
            ),
            "post": _operation(
                "Add an endpoint; its signing secret is shown now, and on rotation only.",
                MANAGER,
                {201: {"allOf": [_ref("Webhook"), _object({"secret": TEXT})]}},
                body=_ref("WebhookChanges"),
            ),
        },
        "/api/webhooks/{endpoint_id}": {
            "get": _operation(
                "One endpoint.", MANAGER, {200: _ref("Webhook")}, errors=(404,), parameters=one
            ),
            "patch": _operation(
                "Change an endpoint.",
                MANAGER,
                {200: _ref("Webhook")},
                errors=(404,),
                parameters=one,
                body=_ref("WebhookChanges"),
            ),
            "delete": _operation(
                "Delete an endpoint.", MANAGER, {204: None}, errors=(404,), parameters=one
            ),
        },
        "/api/webhooks/{endpoint_id}/secret": {
            "post": _operation(
                "A new signing secret, in force at once; the old one stops.",
                MANAGER,
                {200: _object({"id": {"type": "integer"}, "secret": TEXT})},
                errors=(404,),
                parameters=one,
            )
        },
        "/api/webhooks/{endpoint_id}/enable": {
            "post": _operation(
                "Enable an endpoint, resending from where it stopped.",
                MANAGER,
                {200: resending},
                errors=(404,),
                parameters=one,
            )
        },
        "/api/webhooks/{endpoint_id}/disable": {
            "post": _operation(
                "Disable an endpoint.", MANAGER, {200: resending}, errors=(404,), parameters=one
            )
        },
        "/api/webhooks/{endpoint_id}/test": {
            "post": _operation(
                "Queue a test event (webhook.test) to the endpoint.",
                MANAGER,
                {202: _ref("Delivery")},
                errors=(404,),
                parameters=one,
            )
        },
        "/api/webhooks/{endpoint_id}/deliveries": {
            "get": _operation(
                "The endpoint's latest deliveries, newest first.",
                MANAGER,
                {200: _object({"deliveries": {"type": "array", "items": _ref("Delivery")}})},
                errors=(404,),
                parameters=one,
            )
        },
        "/api/webhooks/{endpoint_id}/deliveries/{delivery_id}/resend": {
            "post": _operation(
                "Send a delivery again (the same webhook-id), now.",
                MANAGER,
                {202: _ref("Delivery")},
                errors=(404,),
                parameters=(endpoint, _path("delivery_id", ID, 1)),
            )
        },
    }


def _board_paths() -> dict[str, Any]:
    no_body_write = (403,)  # a session write without the CSRF token or from another origin
    return {
        "/board/live": {
            "get": _operation(
                "What a screen starts from: the calls on the board, the lines, the position.",
                BOARD,
                {
                    200: _object(
                        {
                            "position": {"type": "integer"},
                            "live": {"type": "array", "items": {"type": "object"}},
                            "recent": {"type": "array", "items": {"type": "object"}},
                            "lines": {"type": "array", "items": _ref("Line")},
                            "user": _object({"name": TEXT}),
                            "csrf_token": TEXT,
                        }
                    )
                },
            )
        },
        "/board/token": {
            "get": _operation("A fresh CSRF token.", BOARD, {200: _object({"csrf_token": TEXT})})
        },
        "/board/calls/{call_sid}/claim": {
            "post": _operation(
                "I've got it: the call is answered by the user, from this screen.",
                BOARD,
                {
                    200: _object(
                        {"claimed": {"type": "boolean"}, "answered_by": TEXT, "status": TEXT}
                    )
                },
                errors=(*no_body_write, 404),
                parameters=(SID,),
            )
        },
        "/board/calls/{call_sid}/shown": {
            "post": _operation(
                "A screen showed the card.",
                BOARD,
                {204: None},
                errors=no_body_write,
                parameters=(SID,),
            )
        },
        "/board/calls/{call_sid}/caller": {
            "post": _operation(
                "Save a new caller's name.",
                BOARD,
                {201: _object({"customer_id": {"type": "integer"}, "name": TEXT})},
                errors=(404, 409),
                parameters=(SID,),
                body=_object({"name": {"type": "string", "maxLength": 200}}),
            )
        },
        "/board/calls/{call_sid}/suggestions": {
            "get": _operation(
                "Who a new caller might be (names only).",
                BOARD,
                {200: _object({"suggestions": {"type": "array", "items": {"type": "object"}}})},
                errors=(404,),
                parameters=(SID, _query("name", {"type": "string", "minLength": 3})),
            )
        },
        "/board/calls/{call_sid}/attach": {
            "post": _operation(
                "Add the caller's number to an existing customer.",
                BOARD,
                {
                    200: _object(
                        {"customer_id": {"type": "integer"}, "name": TEXT, "undo_until": TEXT}
                    )
                },
                errors=(404, 409),
                parameters=(SID,),
                body=_object({"customer_id": ID}),
            )
        },
        "/board/calls/{call_sid}/attach/undo": {
            "post": _operation(
                "Take an attached number back, within a minute.",
                BOARD,
                {200: _object({"undone": {"type": "boolean"}})},
                errors=(404, 409),
                parameters=(SID,),
                body=_object({"customer_id": ID}),
            )
        },
        "/board/customers/{customer_id}": {
            "patch": _operation(
                "Correct a customer shown on a card (staff: only those; managers: any).",
                BOARD,
                {200: _object({"customer": _ref("CardCustomer")})},
                errors=(404,),
                parameters=(CUSTOMER_ID,),
                body=_ref("CustomerChanges"),
            )
        },
    }


def description() -> dict[str, Any]:
    """The whole OpenAPI 3.1 document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "callerid",
            "version": "1",
            "description": "The JSON API and the board's JSON routes (README, 'HTTP API').",
        },
        "security": [{"bearer": []}, {"session": []}],
        "paths": {**_api_paths(), **_phone_paths(), **_webhook_paths(), **_board_paths()},
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
        },
    }


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    """The description, readable without logging in: it holds no data."""
    return jsonify(description())
