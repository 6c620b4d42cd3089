"""The voice webhook over HTTP against real gunicorn workers."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import requests

from ..twilio import sample
from .conftest import post_signed


def test_gunicorn_answers_a_signed_call_with_a_dial(server):
    response = post_signed(server.url, "/twilio/voice", sample("voice-inbound-us"))
    assert response.status_code == 200, server.log()
    assert ET.fromstring(response.content).find("Dial") is not None


def test_gunicorn_refuses_a_forged_call(server):
    headers = {"X-Twilio-Signature": "bm90IGEgcmVhbCBzaWduYXR1cmU="}
    refused = requests.post(
        server.url + "/twilio/voice", data=sample("voice-inbound-us"), headers=headers, timeout=5
    )
    assert refused.status_code == 403
