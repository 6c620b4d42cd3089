"""GET /webhooks and its forms: add an endpoint (secret shown once), its status and delivery
log, and its buttons."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from callerid.models.webhooks import WebhookDelivery, WebhookEndpoint
from callerid.webhooks import addresses

from ..factories import add_webhook


def csrf(client, path: str = "/webhooks") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def post(client, path: str, **form):
    return client.post(path, data={"csrf_token": csrf(client), **form})


def follow(client, path: str, **form) -> str:
    response = post(client, path, **form)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client.get(response.headers["Location"]).get_data(as_text=True)


@pytest.fixture(autouse=True)
def allow_loopback(app):
    app.extensions["callerid.webhook_allow"] = addresses.parse_allow_nets("127.0.0.0/8")


def test_a_manager_adds_an_endpoint_and_sees_its_secret_once(as_manager, session):
    response = as_manager.post(
        "/webhooks",
        data={
            "csrf_token": csrf(as_manager),
            "url": "http://127.0.0.1:9/pos",
            "name": "Kitchen POS",
            "format": "standard",
            "event_types": ["call.ringing", "call.missed"],
            "share_alerts": "on",
        },
    )
    page = response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    secret = re.search(r'<code id="secret-value">([^<]+)</code>', page).group(1)
    (endpoint,) = session.scalars(select(WebhookEndpoint))
    assert endpoint.secret == secret and endpoint.types == ["call.ringing", "call.missed"]
    assert endpoint.share_alerts is True and endpoint.share_notes is False
    listing = as_manager.get("/webhooks").get_data(as_text=True)
    assert "Kitchen POS" in listing and secret not in listing


def test_a_refused_url_is_said_and_nothing_is_added(as_manager, session):
    page = follow(as_manager, "/webhooks", url="http://10.0.0.5/pos", event_types="call.ringing")
    assert "10.0.0.5 is a private" in page
    assert session.scalars(select(WebhookEndpoint)).all() == []


def test_the_endpoint_page_shows_its_log_and_its_buttons_work(as_manager, session):
    sent = add_webhook(session, "http://127.0.0.1:9/pos", name="POS")
    path = f"/webhooks/{sent.endpoint_id}"
    page = as_manager.get(path).get_data(as_text=True)
    assert "webhook.test" in page and f'data-delivery="{sent.id}"' in page
    page = follow(as_manager, f"{path}/action", action="disable")
    assert "Disabled" in page and 'role="alert"' in page
    page = follow(as_manager, f"{path}/action", action="enable")
    assert "Enabled: sending again" in page
    page = follow(as_manager, f"{path}/action", action="test")
    assert "A test event is on its way" in page
    page = follow(as_manager, f"{path}/deliveries/{sent.id}/resend")
    assert "same webhook-id" in page
    page = follow(as_manager, path, url="http://127.0.0.1:9/pos2", name="POS",
                  format="slack", event_types="call.ringing")  # fmt: skip
    assert "Saved: url, format." in page
    rotated = post(as_manager, f"{path}/action", action="rotate").get_data(as_text=True)
    assert "New signing secret" in rotated
    page = follow(as_manager, f"{path}/action", action="delete")
    assert "Endpoint deleted" in page
    session.expire_all()
    assert session.scalars(select(WebhookDelivery)).all() == []


def test_a_paused_endpoint_says_why(as_manager, session):
    from callerid.db import utcnow

    sent = add_webhook(session, "http://127.0.0.1:9/pos", in_order=True, paused_at=utcnow())
    page = as_manager.get(f"/webhooks/{sent.endpoint_id}").get_data(as_text=True)
    assert "Paused since" in page and ">paused<" in page


def test_a_bad_change_unknown_actions_and_missing_rows_are_refused(as_manager, session):
    sent = add_webhook(session, "http://127.0.0.1:9/pos", name="POS")
    path = f"/webhooks/{sent.endpoint_id}"
    page = follow(as_manager, path, url="ftp://127.0.0.1/pos", event_types="call.ringing")
    assert "the URL must start with https://" in page
    assert post(as_manager, f"{path}/action", action="explode").status_code == 400
    assert post(as_manager, f"{path}/deliveries/999/resend").status_code == 404
    assert as_manager.get("/webhooks/999").status_code == 404
