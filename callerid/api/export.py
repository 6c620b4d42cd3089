"""GET /api/calls.csv (managers): the filtered call log as CSV, streamed as it is read."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Response, request, stream_with_context
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit, db
from ..auth import manager_required
from ..csvcells import escaped
from ..db import utcnow
from ..history import calllog
from ..models import Call, Note
from ..request_args import LOG_FILTERS, actor, log_filters, zone_arg
from . import bp
from .calls import call_json

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


# ?format=excel: for people opening the file in a spreadsheet rather than for scripts. Excel
# reads UTF-8 only after a byte-order mark, and shows ISO times with "T" and "Z" as text.
EXCEL = "excel"
TIMES = ("received_at", "answered_at", "ended_at")
BOM = "\ufeff"


@bp.get("/calls.csv")
@manager_required
def calls_csv() -> ResponseReturnValue:
    """The call log as CSV. By default for scripts: UTC ISO times, no byte-order mark, the API's
    columns, ``calls.csv``. ``format=excel``: times in ``tz`` as "2026-12-05 18:02:11", a
    byte-order mark, a ``notes`` column and a dated file name."""
    filters = log_filters(request.args)
    excel = request.args.get("format") == EXCEL
    zone = zone_arg(request.args.get("tz"))
    session = db.session()
    name, user_id = actor()
    used = urlencode({key: request.args[key] for key in LOG_FILTERS if request.args.get(key)})
    audit.record(
        session, audit.EXPORT, "calls", actor=name, user_id=user_id, detail=used or "all calls"
    )
    session.commit()
    lines = _excel_lines(session, filters, zone) if excel else _lines(session, filters)
    response = Response(stream_with_context(lines), mimetype="text/csv")
    name = f"calls-{utcnow().astimezone(zone):%Y-%m-%d}.csv" if excel else "calls.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
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


def _excel_lines(session: Session, filters: dict[str, Any], zone: ZoneInfo) -> Iterator[str]:
    try:
        yield BOM + _csv([[*COLUMNS, "notes"]])
        for page in calllog.log_chunks(session, chunk=CHUNK, **filters):
            notes = _notes(session, [call.id for call in page.calls])
            rows = [
                _local([*_row(call, page.callers.get(call.id)), notes.get(call.id, "")], zone)
                for call in page.calls
            ]
            session.close()
            yield _csv(rows)
    finally:
        session.close()


def _notes(session: Session, call_ids: list[int]) -> dict[int, str]:
    """Each call's notes, oldest first, one per line of the cell."""
    found: dict[int, list[str]] = {}
    rows = session.execute(
        select(Note.call_id, Note.body).where(Note.call_id.in_(call_ids)).order_by(Note.id)
    )
    for call_id, body in rows:
        found.setdefault(call_id, []).append(body)
    return {call_id: _cell("\n".join(bodies)) for call_id, bodies in found.items()}


def _local(row: list[str], zone: ZoneInfo) -> list[str]:
    for index in (COLUMNS.index(column) for column in TIMES):
        if row[index]:
            moment = datetime.fromisoformat(row[index].replace("Z", "+00:00"))
            row[index] = f"{moment.astimezone(zone):%Y-%m-%d %H:%M:%S}"
    return row


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
    return escaped(str(value))


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()
