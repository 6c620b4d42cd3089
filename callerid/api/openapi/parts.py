"""The pieces every part of the OpenAPI description is built from: who may call a route, the
answers any route can give, and the schemas and parameters several routes share."""

from __future__ import annotations

from typing import Any

from ...inputs import MAX_ID

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
