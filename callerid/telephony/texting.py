"""The "sorry we missed you" texts through Twilio: a sender in each process that sends the due
ones with the REST API (``run_due``, once per tick), and their signed message status callbacks
(POST /twilio/text-status).

What to send, and whether, is callerid/textback.py's; this module only talks to Twilio. Every
process of every instance may run a sender: ``textback.claim`` lets one of them take a text.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

import requests
from flask import Flask, Response, abort, request
from sqlalchemy.orm import Session
from twilio.base.exceptions import TwilioRestException

from .. import db, inputs, textback, textstatus
from ..background import Background, on_first_request
from ..db import utcnow
from ..events import stream
from ..running_app import running_app
from ..textwords import words_for_error
from . import params, recorder, rest
from .signature import RETRY_FRAGMENT, twilio_signed
from .spool import Entry
from .views import bp

log = logging.getLogger(__name__)
TICK = 5.0  # seconds between looks for due texts: they wait minutes, a few seconds is nothing


def run_due(app: Flask, now: datetime | None = None) -> int:
    """Send the texts due at ``now``; how many were sent (or tried)."""
    now = now or utcnow()
    opts = textback.options(app.config)
    sent = 0
    with db.new_session(app) as session:
        textstatus.give_up_on_stuck(session, now)
        session.commit()
        due = textback.due(session, now)
        for text_id in due:
            session.rollback()
            out = textback.claim(session, text_id, opts, now)
            if out is not None:
                send(app, out)
                sent += 1
    if due:
        stream.wake(app)  # this process's screens hear of it now, not at their next look
    return sent


def send(app: Flask, out: textback.Outgoing) -> None:
    """Ask Twilio to send ``out`` (already recorded "sending"), and record its answer."""
    kwargs = {"to": out.to, "body": out.body}
    if out.sender.startswith("MG"):
        kwargs["messaging_service_sid"] = out.sender
    else:
        kwargs["from_"] = out.sender
    base = app.config.get("CALLERID_PUBLIC_URL")
    if base:
        kwargs["status_callback"] = f"{base}/twilio/text-status?id={out.id}#{RETRY_FRAGMENT}"
    with db.new_session(app) as session:
        try:
            message = rest.client(app.config).messages.create(**kwargs)
        except TwilioRestException as error:
            code = error.code or None
            words = words_for_error(code) if code else rest.refusal(error)
            log.warning("text %s refused by Twilio: %s", out.id, words)
            textstatus.not_sent(session, out.id, code, words, utcnow())
        except (rest.NotConfigured, requests.exceptions.ConnectTimeout) as error:
            # Never reached Twilio: nothing went out.
            textstatus.not_sent(session, out.id, None, rest.refusal(error), utcnow())
        except Exception as error:  # noqa: BLE001 - it may have gone out: never again
            _unknown(session, out.id, error)
        else:
            textstatus.sent(session, out.id, message.sid or "", message.status or "queued")
        session.commit()


def _unknown(session: Session, text_id: int, error: Exception) -> None:
    log.warning("text %s: no answer from Twilio (%s); not sent again", text_id, error)
    textstatus.unknown(session, text_id, f"No answer from Twilio ({type(error).__name__}).")


class Sender(Background):
    """This process's text-back sender: ``run_due`` every ``TICK`` seconds."""

    NAME = "callerid-textback"

    def __init__(self, app: Flask, tick: float = TICK) -> None:
        super().__init__()
        self.app, self.tick = app, tick

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                run_due(self.app)
            except Exception:  # noqa: BLE001 - a bad tick must not end texting for good
                log.exception("text-back: sending the due texts failed; trying again")
            self._stopped.wait(self.tick)


_lock = threading.Lock()


def ensure_running(app: Flask, tick: float = TICK) -> Sender:
    with _lock:
        sender = app.extensions.get("callerid.textback")
        if sender is None:
            sender = app.extensions["callerid.textback"] = Sender(app, tick)
            sender.start()
        return sender


def stop(app: Flask) -> None:
    with _lock:
        sender = app.extensions.pop("callerid.textback", None)
    if sender is not None:
        sender.stop()


def init_app(app: Flask) -> None:
    """Schedule texts as missed calls are recorded; start the sender on this process's first
    request (after gunicorn's fork), when text-back is on. Tests call ``run_due`` themselves."""
    textback.init_app(app)
    if app.config.get("CALLERID_TEXT_BACK") and not app.config.get("CALLERID_PUBLIC_URL"):
        log.warning(
            "CALLERID_TEXT_BACK is on without CALLERID_PUBLIC_URL: texts go out, but Twilio "
            "cannot tell us whether they were delivered"
        )
    if not app.config.get("CALLERID_TEXT_BACK"):
        return

    def start() -> None:
        if not app.testing:
            ensure_running(app)

    on_first_request(app, start)


@bp.post("/text-status")
@twilio_signed
def text_status() -> Response:
    """A text's status callback: 204 once stored or spooled, 503 if neither (Twilio then
    tries again, as the URL's connection overrides ask)."""
    params.check("text_status")
    if inputs.whole_number(request.args.get("id")) is None:
        abort(400, description="Missing the text's id in the URL.")
    # The id comes in the URL Twilio was given: kept with the form for a spooled replay.
    form = {**request.form.to_dict(), "id": request.args["id"]}
    app = running_app()
    recorder.keep(app, Entry("text_status", form, utcnow()), "/twilio/text-status")
    return Response(status=204)
