"""POST /twilio/voice, /dial, /voicemail, /whisper and /status: check, store (recorder.py),
answer.

Voice webhooks and the call's actions answer TwiML whatever happens to our records; a status
callback is acknowledged only once it is stored (503 otherwise, and Twilio sends it again).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import Blueprint, Flask, Response, abort, current_app, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from .. import errors, metrics, numbers
from ..db import utcnow
from ..running_app import running_app
from . import params, recorder, twiml, webhooks, whisper
from .signature import RETRY_FRAGMENT, WHISPER_FRAGMENT, twilio_signed

log = logging.getLogger(__name__)
bp = Blueprint("telephony", __name__, url_prefix="/twilio")


@bp.post("/voice")
@twilio_signed
def voice() -> Response:
    params.check("voice")
    settings = current_app.config
    recorded, outcome = recorder.store_ring(_app(), request.form, utcnow())
    _count(outcome, lost="failed_open")
    caller = (
        recorded.caller
        if recorded
        else numbers.normalise(request.form["From"], settings["CALLERID_DEFAULT_REGION"])
    )
    whisper_url = _url("whisper", WHISPER_FRAGMENT) if settings["CALLERID_WHISPER"] else None
    return _xml(
        twiml.dial(
            settings,
            caller,
            _url("status"),
            _url(_action("dial")),
            _url(_action("voicemail")),
            whisper_url,
        )
    )


def _action(route: str) -> str:
    # An instance not yet upgraded has no /twilio/dial: until all have, actions go to /status.
    return route if current_app.config["CALLERID_ACTION_ROUTES"] else "status"


@bp.post("/dial")
@twilio_signed
def dial_action() -> Response:
    """The ``<Dial action>``: the desk leg is over. The caller hears what comes next at once,
    decided from the request alone; the record follows within the same second or is spooled."""
    params.check("dial")
    return _dial_finished(request.form)


@bp.post("/voicemail")
@twilio_signed
def voicemail() -> Response:
    params.check("voicemail")
    return _voicemail_left(request.form)


@bp.post("/whisper")
@twilio_signed
def whisper_to_desk() -> Response:
    """The answering leg's document (``<Number url>``): a few words for the person who answered,
    worked out now from the database, or an empty document whenever that fails or runs late."""
    params.check("whisper")
    words = whisper.words(_app(), request.form)
    if words is None:
        metrics.webhook_outcome("/twilio/whisper", "failed_open")
        return _xml(twiml.empty())
    return _xml(twiml.whisper(current_app.config, words))


@bp.post("/status")
@twilio_signed
def status() -> Response:
    """Status callbacks; also the ``<Dial action>`` and the recording action of TwiML issued
    before those had routes of their own (older instances still issue it)."""
    form = request.form
    route = webhooks.route_of("status", form)
    params.check(route)
    if route == "dial":
        return _dial_finished(form)
    if route == "voicemail":
        return _voicemail_left(form)
    outcome = recorder.store_callback(_app(), form, utcnow())
    _count(outcome, lost="refused")
    if outcome is recorder.Outcome.LOST:
        # Neither committed nor spooled: Twilio must not take this for an acknowledgement.
        abort(503, description="The callback could not be stored; send it again.")
    return Response(status=204)


def _dial_finished(form: Mapping[str, str]) -> Response:
    outcome = recorder.store_action(_app(), "dial", form, utcnow())
    _count(outcome, lost="failed_open")
    if not webhooks.dial_missed(form):
        return _xml(twiml.hang_up())
    return _xml(twiml.no_answer(current_app.config, _url(_action("voicemail"))))


def _voicemail_left(form: Mapping[str, str]) -> Response:
    log.info("voicemail left on %s: %s", form["CallSid"], form["RecordingUrl"])
    outcome = recorder.store_action(_app(), "voicemail", form, utcnow())
    _count(outcome, lost="failed_open")
    return _xml(twiml.hang_up())


def _count(outcome: recorder.Outcome, *, lost: str) -> None:
    """Count the request once, under the route it came in on (/twilio/status also carries the
    actions of older TwiML)."""
    name = lost if outcome is recorder.Outcome.LOST else outcome.value
    metrics.webhook_outcome(request.url_rule.rule if request.url_rule else request.path, name)


def _app() -> Flask:
    return running_app()


def _url(route: str, fragment: str = RETRY_FRAGMENT) -> str:
    """Where Twilio should send this route's requests, with the connection overrides: Twilio
    retries a request whose connection failed (an instance down behind the balancer)."""
    # scheme://host rather than request.host_url, which also rebuilds and re-decodes the path.
    base = current_app.config["CALLERID_PUBLIC_URL"] or f"{request.scheme}://{request.host}"
    return f"{base}/twilio/{route}#{fragment}"


@bp.errorhandler(HTTPException)
def _refused(error: HTTPException) -> ResponseReturnValue:
    """TwiML where Twilio expects TwiML (the call's own webhooks); a status callback's answer
    body is never read, so it gets the JSON shape of every other program."""
    if request.endpoint == "telephony.status":
        return errors.http_error(error)
    refused = _xml(twiml.refusal(f"{error.code} {error.name}: {error.description}"))
    refused.status_code = error.code or 400
    return refused


def _xml(body: str) -> Response:
    return Response(body, status=200, mimetype="text/xml")
