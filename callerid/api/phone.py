"""/api/phone/*: what a phone system other than Twilio (3CX, FreePBX, a hosted PBX) may do with
a ``phone`` token: post its call events, and look a caller up for its display. Nothing else."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, abort, current_app, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.exceptions import HTTPException, TooManyRequests

from .. import clock, db, numbers, phones
from ..auth import bearer_token
from ..auth.buckets import Throttle
from ..errors import BadField
from ..events import stream
from ..models import ApiToken
from ..running_app import running_app
from . import bp

log = logging.getLogger(__name__)
FORMATS = ("json", "text")


@bp.post("/phone/events")
def phone_events() -> ResponseReturnValue:
    """A phone system's call event: the same records, cards and log as Twilio's webhooks."""
    token = _phone_token()
    try:
        event = phones.read_event(request.get_json(force=True, silent=True), _source(token))
    except phones.BadPhoneEvent as error:
        raise BadField(error.field, str(error)) from error
    app = _app()
    db.release_session()  # the token's read; the write below has a session of its own
    with db.new_session(app) as session:
        db.bound(session, app.config["CALLERID_DB_TIMEOUT"])
        applied = phones.apply(
            session,
            event,
            app.config["CALLERID_DEFAULT_REGION"],
            today=clock.business_today(app.config),
        )
        answer = _event_answer(event, applied)
        session.commit()
    stream.wake(app)
    return jsonify(answer)


def _event_answer(event: phones.PhoneEvent, applied: phones.Applied) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "recorded": applied.is_recorded,
        "source": event.source,
        "call_id": event.call_id,
    }
    call = applied.call
    if call is None:
        answer["reason"] = "a call from an internal extension: not recorded, no card"
        return answer
    answer.update(
        call_sid=call.call_sid,
        status=call.status,
        answered_by=call.answered_by,
        is_missed=call.is_missed,
    )
    return answer


@bp.get("/phone/lookup")
def phone_lookup() -> ResponseReturnValue:
    """The caller's name for a PBX: JSON, or with ``format=text`` the display name alone, an
    empty body whenever there is nothing to show, errors included (a PBX shows any body)."""
    if request.args.get("format") != "text":
        return jsonify(_lookup())
    try:
        name = _lookup()["display_name"]
    except Exception as error:  # noqa: BLE001 - the phone shows whatever body it gets
        if not isinstance(error, HTTPException):
            log.exception("caller look-up failed; the phone shows no name")
        name = ""
    return Response(name, mimetype="text/plain")


def _lookup() -> dict[str, Any]:
    token = _phone_token()
    wait = _throttle(_app()).take(token.id)
    if wait:
        raise TooManyRequests(
            description="Too many look-ups for this token; slow down.",
            retry_after=max(1, round(wait)),
        )
    format_ = request.args.get("format", "json")
    if format_ not in FORMATS:
        raise BadField("format", f"format is json or text, not {format_!r}")
    raw_number = request.args.get("number")
    if raw_number is None:
        raise BadField("number", "number is required: the caller's number in any format")
    if raw_number.startswith(" ") and raw_number.strip()[:1].isdigit():
        # A PBX that puts "+44..." in the query string unencoded: the "+" arrives as a space.
        raw_number = "+" + raw_number.strip()
    region = current_app.config["CALLERID_DEFAULT_REGION"]
    try:
        answer = phones.lookup(db.session(), raw_number, region)
    except numbers.InvalidNumber as error:
        raise BadField("number", f"number {raw_number!r} is {error.reason}") from error
    answer["url"] = _customer_url(answer["customer_id"])
    return answer


def _customer_url(customer_id: int | None) -> str | None:
    if customer_id is None:
        return None
    public = current_app.config.get("CALLERID_PUBLIC_URL")
    path = url_for("manage.customers_show", customer_id=customer_id)
    return (
        f"{public}{path}"
        if public
        else url_for("manage.customers_show", customer_id=customer_id, _external=True)
    )


def _phone_token() -> ApiToken:
    """The live ``phone`` token the request carries; 401 without credentials, 403 with a
    token of another kind or a login (they cannot speak for a phone system)."""
    token = bearer_token(request)
    if token is not None and token.kind == "phone":
        return token
    if token is not None or current_user.is_authenticated:
        abort(403, description="This route takes a token of kind phone.")
    abort(401, description="Send Authorization: Bearer <a phone token>.")


def _source(token: ApiToken) -> str:
    from ..auth.tokens import DEFAULT_SOURCE

    return token.source or DEFAULT_SOURCE


def _throttle(app: Flask) -> Throttle:
    throttle = app.extensions.get("callerid.phone_throttle")
    if throttle is None:
        per_minute = int(app.config["CALLERID_PHONE_LOOKUPS_PER_MINUTE"])
        throttle = app.extensions["callerid.phone_throttle"] = Throttle(per_minute)
    return throttle


def _app() -> Flask:
    return running_app()
