"""GET /api/openapi.json: an OpenAPI 3.1 description of every route under /api/ and of the
board's JSON routes, with every status each can answer (``tests/api/test_openapi.py`` fails on a
route left out, and schemathesis checks the answers against it)."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue

from .. import bp
from .api_paths import api_paths
from .board_paths import board_paths
from .phone_paths import phone_paths
from .schemas import SCHEMAS
from .webhook_paths import webhook_paths


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
        "paths": {**api_paths(), **phone_paths(), **webhook_paths(), **board_paths()},
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
