"""The board's JSON routes (under /board/)."""

from __future__ import annotations

from typing import Any

from .parts import (
    BOARD,
    CUSTOMER_ID,
    ID,
    SID,
    TEXT,
    _object,
    _operation,
    _query,
    _ref,
)


def board_paths() -> dict[str, Any]:
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
