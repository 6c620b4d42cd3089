"""GET /api/audit (managers): who exported, erased, merged or anonymised what, and when."""

from __future__ import annotations

from typing import Any

from flask import abort, jsonify, request, url_for
from flask.typing import ResponseReturnValue

from .. import audit, db
from ..auth import manager_required
from ..db import iso
from ..request_args import limit_arg, link_query
from . import bp

MAX_LIMIT = 500


@bp.get("/audit")
@manager_required
def audit_trail() -> ResponseReturnValue:
    """Newest first; ``action`` filters, ``limit`` and ``cursor`` page as GET /api/calls does."""
    args = request.args
    try:
        page = audit.entries(
            db.session(),
            limit=limit_arg(args.get("limit"), 50, MAX_LIMIT),
            cursor=args.get("cursor") or None,
            action=args.get("action") or None,
        )
    except audit.BadCursor:
        abort(400, description="cursor is not one this API handed out.")
    body: dict[str, Any] = {
        "entries": [
            {
                "id": entry.id,
                "at": iso(entry.created_at),
                "actor": entry.actor,
                "user_id": entry.user_id,
                "action": entry.action,
                "target": entry.target,
                "detail": entry.detail,
            }
            for entry in page.entries
        ],
        "next": None,
        "next_cursor": page.next_cursor,
    }
    if page.next_cursor:
        body["next"] = url_for("api.audit_trail", **link_query(args, cursor=page.next_cursor))
    return jsonify(body)
