"""Finding 4: a body over 64 KiB is refused with 413, in the shape its caller reads."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

from ..api.conftest import bearer
from ..twilio import BASE_URL, sample, signature

OVER = b"x" * (64 * 1024 + 1)


def test_an_oversized_api_write_gets_413_in_the_api_error_shape(client, session):
    headers = {**bearer(session, "boss", "manager"), "Content-Type": "application/json"}
    session.commit()
    response = client.post("/api/customers", data=OVER, headers=headers)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == 413


def test_an_oversized_webhook_gets_a_plain_413_before_its_signature_is_checked(client):
    response = client.post("/twilio/voice", data=OVER, content_type="text/plain")
    assert response.status_code == 413
    assert response.mimetype == "text/plain"
    assert "too large" in response.get_data(as_text=True)


def test_an_oversized_login_form_gets_an_html_413_page(client):
    response = client.post("/login", data={"name": "desk", "password": OVER.decode()})
    assert response.status_code == 413
    assert response.mimetype == "text/html"


def chunked(client, path: str, body: bytes, headers: dict[str, str] | None = None):
    # As gunicorn hands over a chunked body: no Content-Length, a stream it ends itself.
    return client.post(
        path,
        input_stream=io.BytesIO(body),
        content_type="application/x-www-form-urlencoded",
        headers={"Transfer-Encoding": "chunked", **(headers or {})},
        environ_overrides={"wsgi.input_terminated": True},
    )


def test_a_chunked_body_that_grows_past_the_limit_is_refused(client):
    response = chunked(client, "/twilio/voice", b"CallSid=" + OVER)
    assert response.status_code == 413
    assert response.mimetype == "text/plain"


def test_a_chunked_webhook_within_the_limit_is_served_whole(client):
    params = sample("voice-inbound-us")
    headers = {"X-Twilio-Signature": signature(BASE_URL + "/twilio/voice", params)}
    response = chunked(client, "/twilio/voice", urlencode(params).encode(), headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert ET.fromstring(response.data).find("Dial") is not None
