"""POST /twilio/voice and /twilio/status: parse, call one service, answer TwiML."""

from __future__ import annotations

import logging
from datetime import datetime
from email.utils import parsedate_to_datetime

from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy.exc import SQLAlchemyError

from .. import calls, db, errors, numbers
from ..events import stream
from . import twiml
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
    _ring(call_sid, raw_from, form.get("To", ""), region, form.get("Direction", "inbound"))
    caller = numbers.normalise(raw_from, region)
    return _xml(twiml.dial(settings, caller, _status_url()))


def _ring(call_sid: str, raw_from: str, raw_to: str, region: str, direction: str) -> None:
    """Record the ringing call on a plain Connection (no Session: the busiest path pays for
    nothing it does not use); on any failure log it, the call connects anyway."""
    app = current_app
    try:
        with db.engine_for(app).begin() as connection:
            db.bound(connection, app.config["CALLERID_DB_TIMEOUT"])
            ringing = calls.ring(
                connection, call_sid, raw_from, raw_to, region, direction=direction
            )
    except Exception as error:  # whatever failed, the caller must still reach the desk
        _failed(error)
        return
    if ringing.is_new:
        stream.wake(app)


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
    base = current_app.config["CALLERID_PUBLIC_URL"] or request.host_url.rstrip("/")
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
