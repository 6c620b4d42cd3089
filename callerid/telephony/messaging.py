"""POST /twilio/sms: a text to one of our numbers (the number's "A message comes in" webhook).

The text is kept (callerid/texts.py) and answered with an empty messaging ``<Response/>``:
callerid never replies by itself, and Twilio answers STOP and HELP on its own. A text the
database cannot take now is spooled like any webhook; one that can be neither stored nor
spooled is answered 503, so that it is not taken as stored.
"""

from __future__ import annotations

from flask import Response, request

from ..db import utcnow
from ..running_app import running_app
from . import params, recorder, twiml
from .signature import twilio_signed
from .spool import Entry
from .views import bp


@bp.post("/sms")
@twilio_signed
def text_received() -> Response:
    params.check("sms")
    app = running_app()
    recorder.keep(app, Entry("sms", dict(request.form), utcnow()), "/twilio/sms")
    return Response(twiml.no_reply(), status=200, mimetype="text/xml")
