"""The yardstick: a bare Flask app answering the voice webhook with constant TwiML.

Served by the same gunicorn config as the real app, it measures what gunicorn, gevent, Werkzeug
and Flask cost on their own; the real webhook is compared with it (target: at least half as fast).
"""

from __future__ import annotations

from flask import Flask, Response

TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Dial action="http://127.0.0.1/twilio/status"'
    ' answerOnBridge="true" callerId="+13125550187" method="POST" timeout="20"><Number '
    'statusCallback="http://127.0.0.1/twilio/status" statusCallbackEvent="initiated ringing '
    'answered completed" statusCallbackMethod="POST">+12025550199</Number></Dial></Response>'
)

app = Flask(__name__)


@app.get("/healthz")
def healthz() -> Response:
    return Response("ok", mimetype="text/plain")


@app.post("/twilio/voice")
def voice() -> Response:
    return Response(TWIML, status=200, mimetype="text/xml")


@app.post("/twilio/status")
def status() -> Response:
    # A status callback, the <Dial action> too: the same request costs, answered at once.
    return Response(status=204)
