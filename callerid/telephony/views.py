"""POST /twilio/voice and /twilio/status: parse, call one service, answer TwiML."""

from __future__ import annotations

import functools
import logging
from datetime import datetime
from email.utils import parsedate_to_datetime

from flask import Blueprint, Flask, Response, abort, current_app, request
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from .. import calls, db, errors, numbers, ringing
from ..events import stream
from . import twiml
from .groupcommit import GroupCommit
from .signature import twilio_signed

log = logging.getLogger(__name__)
bp = Blueprint("telephony", __name__, url_prefix="/twilio")
STATUS_PATIENCE = 10.0


@bp.post("/voice")
@twilio_signed
def voice() -> Response:
    call_sid, raw_from = _required("CallSid", "From")
    settings = current_app.config
    region = settings["CALLERID_DEFAULT_REGION"]
    form = request.form
    to, direction = form.get("To", ""), form.get("Direction", "inbound")
    recorded = _ring(ringing.Ring(call_sid, raw_from, to, direction))
    caller = recorded.caller if recorded else numbers.normalise(raw_from, region)
    return _xml(twiml.dial(settings, caller, _status_url()))


def _ring(ring: ringing.Ring) -> ringing.Ringing | None:
    """Record the ringing call in this process's next batch; on any failure log it and return
    None: the call connects anyway."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    # A batch may wait for a pooled connection, then run its statements, each bounded by the
    # timeout; past a few of those, the caller has waited long enough.
    patience = app.config["CALLERID_DB_TIMEOUT"] * 4 + 1
    try:
        return _batches(app).submit(ring, patience)
    except Exception as error:  # whatever failed, the caller must still reach the desk
        _failed(error)
        return None


def _batches(app: Flask) -> GroupCommit[ringing.Ring, ringing.Ringing | None]:
    # Made in the worker on first use, never in gunicorn's master before the fork.
    batches = app.extensions.get("callerid.ringing")
    if batches is None:
        batches = app.extensions["callerid.ringing"] = GroupCommit(
            functools.partial(_record_batch, app)
        )
    return batches


def _record_batch(app: Flask, rings: list[ringing.Ring]) -> list[ringing.Ringing | None]:
    """One transaction for the batch (a plain Connection: the busiest path pays for no Session).
    A batch that fails on one webhook's data is retried a webhook at a time, so the others are
    still recorded; a database that is down or overloaded fails them all at once."""
    try:
        recorded: list[ringing.Ringing | None] = list(_transaction(app, rings))
    except DBAPIError as error:
        if len(rings) == 1 or isinstance(error, OperationalError) or error.connection_invalidated:
            raise
        recorded = [_alone(app, ring) for ring in rings]
    if any(one is not None and one.is_new for one in recorded):
        stream.wake(app)
    return recorded


def _transaction(app: Flask, rings: list[ringing.Ring]) -> list[ringing.Ringing]:
    with db.engine_for(app).begin() as connection:
        db.bound(connection, app.config["CALLERID_DB_TIMEOUT"])
        return ringing.ring_many(connection, rings, app.config["CALLERID_DEFAULT_REGION"])


def _alone(app: Flask, ring: ringing.Ring) -> ringing.Ringing | None:
    try:
        return _transaction(app, [ring])[0]
    except SQLAlchemyError as error:
        message = (
            f"database failure on /twilio/voice ({ring.call_sid}); the call goes on unrecorded"
        )
        errors.log_failure(log, message, error)
        return None


@bp.post("/status")
@twilio_signed
def status() -> Response:
    (call_sid,) = _required("CallSid")
    form = request.form
    region = current_app.config["CALLERID_DEFAULT_REGION"]
    if "RecordingUrl" in form:
        log.info("voicemail left on %s: %s", call_sid, form["RecordingUrl"])
        return _xml(twiml.hang_up())
    if "DialCallStatus" in form:
        missed = _record(
            calls.dial_finished,
            call_sid,
            form["DialCallStatus"],
            region,
            duration=_int(form.get("DialCallDuration")),
        )
        if missed is False:
            return _xml(twiml.hang_up())
        return _xml(twiml.no_answer(current_app.config, _status_url()))
    # A status callback has no caller waiting on its answer: a busy database may take longer.
    _record(
        calls.callback,
        call_sid,
        form.get("CallStatus", ""),
        region,
        parent_call_sid=form.get("ParentCallSid") or None,
        raw_from=form.get("From", ""),
        raw_to=form.get("To", ""),
        direction=form.get("Direction", "inbound"),
        at=_timestamp(form.get("Timestamp")),
        duration=_int(form.get("CallDuration")),
        patience=STATUS_PATIENCE,
        tries=2,
    )
    return Response(status=204)


def _record(service, *args, patience: float = 1.0, tries: int = 1, **kwargs):  # type: ignore[no-untyped-def]
    """Run one service call in its own transaction; on a database failure log it and return None,
    because the call must connect whatever happens to our records. ``patience`` stretches the
    database bound where no caller is waiting for our answer; ``tries`` > 1 runs it again after
    a failure (a callback racing the still-open transaction of its own voice webhook)."""
    session = db.session()
    for attempt in range(1, tries + 1):
        try:
            db.bound(session, current_app.config["CALLERID_DB_TIMEOUT"] * patience)
            result = service(session, *args, **kwargs)
            session.commit()
        except SQLAlchemyError as error:
            session.rollback()
            if attempt < tries:
                continue
            _failed(error)
            return None
        stream.wake(current_app)
        return result
    return None


def _failed(error: Exception) -> None:
    # Overload (pool or statement timeouts) in one rate-limited line, not a traceback per call.
    what = "database failure" if isinstance(error, SQLAlchemyError) else "failure"
    message = f"{what} on {request.path}; the call goes on unrecorded"
    errors.log_failure(log, message, error)


def _required(*names: str) -> list[str]:
    values = [request.form.get(name) for name in names]
    # An empty From is a withheld caller, not a bad request; an absent one is.
    missing = [
        name
        for name, value in zip(names, values, strict=True)
        if value is None or (value == "" and name != "From")
    ]
    if missing:
        abort(400, description=f"Missing {', '.join(missing)} in the webhook's parameters.")
    return [value or "" for value in values]


def _status_url() -> str:
    # scheme://host rather than request.host_url, which also rebuilds and re-decodes the path.
    base = current_app.config["CALLERID_PUBLIC_URL"] or f"{request.scheme}://{request.host}"
    return f"{base}/twilio/status"


def _xml(body: str) -> Response:
    return Response(body, status=200, mimetype="text/xml")


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _timestamp(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
