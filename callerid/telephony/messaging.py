"""POST /twilio/sms: a text to one of our numbers (the number's "A message comes in" webhook).

The text is kept (callerid/texts.py) and answered with an empty messaging ``<Response/>``:
callerid never replies by itself, and Twilio answers STOP and HELP on its own. A text the
database cannot take is answered 503, so that it is not taken as stored.
"""

from __future__ import annotations

import logging

from flask import Response, abort, current_app, request
from sqlalchemy.exc import SQLAlchemyError

from .. import db, metrics, texts
from ..db import utcnow
from . import params, twiml
from .signature import twilio_signed
from .views import bp

log = logging.getLogger(__name__)


@bp.post("/sms")
@twilio_signed
def text_received() -> Response:
    params.check("sms")
    form = request.form
    message_sid = form["MessageSid"]
    session = db.session()
    try:
        db.bound(session, current_app.config["CALLERID_DB_TIMEOUT"])
        texts.receive(
            session,
            message_sid=message_sid,
            raw_from=form["From"],
            raw_to=form.get("To", ""),
            body=form.get("Body", ""),
            opt_out_type=form.get("OptOutType", ""),
            region=current_app.config["CALLERID_DEFAULT_REGION"],
            at=utcnow(),
        )
        session.commit()
    except SQLAlchemyError as error:
        session.rollback()
        log.warning("text %s not stored: %s", message_sid, error)
        metrics.webhook_outcome("/twilio/sms", "refused")
        abort(503, description="The text could not be stored; send it again.")
    metrics.webhook_outcome("/twilio/sms", "recorded")
    return Response(twiml.no_reply(), status=200, mimetype="text/xml")
