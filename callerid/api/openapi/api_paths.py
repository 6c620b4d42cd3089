"""The routes under /api/ that staff, managers and scripts call."""

from __future__ import annotations

from typing import Any

from .parts import (
    CALL_LOG,
    CALLED_BACK,
    CUSTOMER_ID,
    ID,
    JSON,
    LOG_FILTERS,
    MANAGER,
    NOTE,
    NUMBER_OR_NULL,
    PAGE,
    SID,
    STAFF,
    TEXT,
    TIME,
    _nullable,
    _object,
    _operation,
    _path,
    _query,
    _ref,
)

# What GET /api/insights says of reaching back to missed callers, in all and per day
# (callerid/history/outreach.py defines each figure).
OUTREACH = {
    "called_back": {"type": "integer", "minimum": 0},
    "call_back_median_seconds": {"type": ["number", "null"], "minimum": 0},
    "texts_sent": {"type": "integer", "minimum": 0},
    "texts_delivered": {"type": "integer", "minimum": 0},
    "texts_failed": {"type": "integer", "minimum": 0},
    "opted_out": {"type": "integer", "minimum": 0},
}
INSIGHTS = {
    "type": "object",
    "properties": {
        **OUTREACH,
        "per_day": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"date": {"type": "string", "format": "date"}, **OUTREACH},
                "required": ["date", "calls", "answered", "missed", *OUTREACH],
            },
        },
    },
    "required": ["since", "until", "total_calls", *OUTREACH, "per_day"],
}


def api_paths() -> dict[str, Any]:
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
                "Calls per day and hour, answer rate, returning share, top callers; missed calls"
                " called back and the median time to call back; missed-call texts sent,"
                " delivered and failed; opt-outs (per day in tz, and in all).",
                MANAGER,
                {200: INSIGHTS},
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
