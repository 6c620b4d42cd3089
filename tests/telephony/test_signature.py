"""Only Twilio, signing with our auth token for the URL it called, gets through."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from callerid.models import Call, Event

from ..twilio import post_signed, sample, signature


def nothing_recorded(session) -> bool:
    calls = session.scalar(select(func.count()).select_from(Call))
    events = session.scalar(select(func.count()).select_from(Event))
    return calls == 0 and events == 0


@pytest.mark.parametrize("path", ["/twilio/voice", "/twilio/status"])
def test_a_request_without_signature_is_refused(client, session, path):
    response = client.post(path, data=sample("voice-inbound-us"))
    assert response.status_code == 403
    assert nothing_recorded(session)


def test_a_tampered_parameter_is_refused(client, session):
    params = sample("voice-inbound-us")
    good = signature("http://localhost/twilio/voice", params)
    tampered = dict(params, From="+14155550134")
    response = client.post("/twilio/voice", data=tampered, headers={"X-Twilio-Signature": good})
    assert response.status_code == 403
    assert nothing_recorded(session)


def test_a_signature_from_another_account_is_refused(client, session):
    response = post_signed(client, "/twilio/voice", sample("voice-inbound-us"), token="x" * 32)
    assert response.status_code == 403
    assert nothing_recorded(session)


def test_a_signature_for_another_url_is_refused(client, session):
    params = sample("voice-inbound-us")
    headers = {"X-Twilio-Signature": signature("https://evil.example.com/twilio/voice", params)}
    response = client.post("/twilio/voice", data=params, headers=headers)
    assert response.status_code == 403


def test_an_extra_parameter_twilio_never_sent_is_refused(client, session):
    params = sample("voice-inbound-us")
    headers = {"X-Twilio-Signature": signature("http://localhost/twilio/voice", params)}
    response = client.post("/twilio/voice", data=dict(params, Injected="1"), headers=headers)
    assert response.status_code == 403


def test_without_an_auth_token_every_webhook_is_refused(app, client, session):
    app.config["TWILIO_AUTH_TOKEN"] = None
    assert post_signed(client, "/twilio/voice", sample("voice-inbound-us")).status_code == 403
    assert nothing_recorded(session)


def test_behind_a_proxy_the_public_url_is_what_twilio_signed(app, client, session):
    app.config["CALLERID_PUBLIC_URL"] = "https://desk.example.com"
    params = sample("voice-inbound-us")
    headers = {"X-Twilio-Signature": signature("https://desk.example.com/twilio/voice", params)}
    response = client.post("/twilio/voice", data=params, headers=headers)
    assert response.status_code == 200
    assert b"https://desk.example.com/twilio/status" in response.data


def test_the_default_https_port_may_or_may_not_be_in_the_signed_url(app, client):
    app.config["CALLERID_PUBLIC_URL"] = "https://desk.example.com"
    params = sample("voice-inbound-us")
    headers = {"X-Twilio-Signature": signature("https://desk.example.com:443/twilio/voice", params)}
    assert client.post("/twilio/voice", data=params, headers=headers).status_code == 200


def test_a_signed_query_string_is_checked_as_sent(client, session):
    params = sample("voice-inbound-us")
    path = "/twilio/voice?site=front%2Fdesk&name=caf%C3%A9"
    response = post_signed(client, path, params)
    assert response.status_code == 200
    assert session.scalar(select(func.count()).select_from(Call)) == 1


def test_forwarded_headers_count_only_from_a_trusted_proxy(database_url, tmp_path):
    from callerid import create_app, db

    from ..conftest import settings_for

    params = sample("voice-inbound-us")
    headers = {
        "X-Twilio-Signature": signature("https://desk.example.com/twilio/voice", params),
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "desk.example.com",
    }
    trusting = create_app(settings_for(database_url, tmp_path / "a", CALLERID_TRUSTED_PROXIES=1))
    distrusting = create_app(settings_for(database_url, tmp_path / "b"))
    try:
        trusted = trusting.test_client().post("/twilio/voice", data=params, headers=headers)
        distrusted = distrusting.test_client().post("/twilio/voice", data=params, headers=headers)
    finally:
        for app in (trusting, distrusting):
            db.engine_for(app).dispose()
    assert trusted.status_code == 200
    assert distrusted.status_code == 403
