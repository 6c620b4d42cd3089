"""Call-backs through Twilio: place the staff member's leg with the REST API, answer its TwiML
(POST /twilio/callback) and take both legs' status callbacks (POST /twilio/callback/status).

The REST request runs beside the request that asked for it, so the button answers at once and
screens follow the progress through the call-back's events (callerid/callbacks.py).
"""

from __future__ import annotations

import logging
import threading

from flask import Flask, Response, abort, current_app, request

from .. import callbacks, db, inputs
from ..db import utcnow
from ..running_app import running_app
from . import params, recorder, rest, twiml
from .signature import RETRY_FRAGMENT, twilio_signed
from .spool import Entry
from .views import bp

log = logging.getLogger(__name__)
STAFF_EVENTS = ["initiated", "ringing", "answered", "completed"]
RING_STAFF_FOR = 20  # seconds the staff member's phone rings before the call-back gives up


def place(app: Flask, callback_id: int, base_url: str) -> threading.Thread:
    """Ask Twilio to ring the staff member's phone for call-back ``callback_id``, in the
    background; Twilio then requests our URLs under ``base_url``."""
    worker = threading.Thread(
        target=_place, args=(app, callback_id, base_url.rstrip("/")), daemon=True
    )
    worker.start()
    return worker


def _place(app: Flask, callback_id: int, base: str) -> None:
    region = app.config["CALLERID_DEFAULT_REGION"]
    with db.new_session(app) as session:
        callback = callbacks.get(session, callback_id)
        if callback is None:
            return
        to, line = callback.staff_phone, callback.line
        session.rollback()  # no transaction held open during the REST request
        query = f"?id={callback_id}"
        try:
            call = rest.client(app.config).calls.create(
                to=to,
                from_=line,
                url=f"{base}/twilio/callback{query}#{RETRY_FRAGMENT}",
                status_callback=f"{base}/twilio/callback/status{query}#{RETRY_FRAGMENT}",
                status_callback_event=STAFF_EVENTS,
                status_callback_method="POST",
                timeout=RING_STAFF_FOR,
            )
        except Exception as error:  # noqa: BLE001 - every refusal is told to the person asking
            log.warning("call-back %s not placed: %s", callback_id, error)
            callbacks.failed(session, callback_id, rest.refusal(error), region)
        else:
            callbacks.placed(session, callback_id, call.sid or "")
        session.commit()


@bp.post("/callback")
@twilio_signed
def callback_answered() -> Response:
    """The staff member answered: tell them whom they are calling, then ring the customer."""
    params.check("callback")
    _required_id()
    session = db.session()
    callback = callbacks.staff_answered(session, _callback_id())
    if callback is None:
        session.commit()
        return _xml(twiml.say_and_hang_up("This call-back is over. Goodbye."))
    region = current_app.config["CALLERID_DEFAULT_REGION"]
    name = callback.customer.name if callback.customer else "the caller"
    document = twiml.call_back(
        current_app.config,
        f"Calling back {name}.",
        callback.number,
        callback.line,
        f"{_base()}/twilio/callback/status?id={callback.id}#{RETRY_FRAGMENT}",
    )
    session.commit()
    log.info("call-back %s: %s", callback.id, callbacks.words(callback, region))
    return _xml(document)


@bp.post("/callback/status")
@twilio_signed
def callback_status() -> Response:
    """Status callbacks of both legs of a call-back; 204 once stored or spooled, 503 if
    neither (Twilio's retries then depend on the connection overrides)."""
    params.check("callback_status")
    _required_id()
    # The call-back's id comes in the URL Twilio was given: kept with the form, so that a
    # status spooled now is applied to the same call-back later.
    form = {**request.form.to_dict(), "id": request.args["id"]}
    app = running_app()
    recorder.keep(app, Entry("callback_status", form, utcnow()), "/twilio/callback/status")
    return Response(status=204)


def _required_id() -> None:
    if inputs.whole_number(request.args.get("id")) is None:
        abort(400, description="Missing the call-back's id in the URL.")


def _callback_id() -> int:
    return int(request.args["id"])  # _required_id made sure of its digits


def _base() -> str:
    return current_app.config["CALLERID_PUBLIC_URL"] or f"{request.scheme}://{request.host}"


def _xml(body: str) -> Response:
    return Response(body, status=200, mimetype="text/xml")
