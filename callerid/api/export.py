"""GET /api/calls.csv (managers): the filtered call log as CSV, streamed as it is read."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from flask import Response, request, stream_with_context
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from .. import db
from ..auth import manager_required
from ..history import audit, calllog
from ..models import Call
from . import bp
from .calls import call_json
from .params import LOG_FILTERS, actor, log_filters

# The columns are GET /api/calls's fields, nested ones flattened: the two always agree.
COLUMNS = [
    "call_sid",
    "received_at",
    "answered_at",
    "ended_at",
    "direction",
    "status",
    "is_missed",
    "from",
    "caller_kind",
    "line_number",
    "line_label",
    "customer_id",
    "customer_name",
    "matched_by",
    "caller",
    "answered_by",
    "outcome",
    "duration",
    "voicemail_url",
]
CHUNK = 1000
# Spreadsheets run a cell that starts like a formula, so such text gets a leading apostrophe
# (owasp.org/www-community/attacks/CSV_Injection). E.164 numbers are only digits: kept as they are.
_FORMULA = re.compile(r"^[=+\-@\t\r]")
_E164 = re.compile(r"^\+\d+$")


@bp.get("/calls.csv")
@manager_required
def calls_csv() -> ResponseReturnValue:
    filters = log_filters(request.args)
    session = db.session()
    name, user_id = actor()
    used = urlencode({key: request.args[key] for key in LOG_FILTERS if request.args.get(key)})
    audit.record(
        session, audit.EXPORT, "calls", actor=name, user_id=user_id, detail=used or "all calls"
    )
    session.commit()
    response = Response(stream_with_context(_lines(session, filters)), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="calls.csv"'
    response.headers["X-Accel-Buffering"] = "no"  # let nginx pass chunks on as they come
    return response


def _lines(session: Session, filters: dict[str, Any]) -> Iterator[str]:
    try:
        yield _csv([COLUMNS])
        for page in calllog.log_chunks(session, chunk=CHUNK, **filters):
            text = _csv([_row(call, page.callers.get(call.id)) for call in page.calls])
            # Give the connection back while the client reads: a big export takes minutes.
            session.close()
            yield text
    finally:
        session.close()  # also when the client goes away halfway


def _row(call: Call, caller: str | None) -> list[str]:
    data = call_json(call, caller)
    line = data.pop("line") or {}
    customer = data.pop("customer") or {}
    data.update(
        line_number=line.get("number"),
        line_label=line.get("label"),
        customer_id=customer.get("id"),
        customer_name=customer.get("name"),
    )
    return [_cell(data[column]) for column in COLUMNS]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if _FORMULA.match(text) and not _E164.match(text):
        return "'" + text
    return text


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()
