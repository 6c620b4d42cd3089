"""/api/webhooks: managers register endpoints (every change audited), read their deliveries,
resend one and send a test event; refusals name the field."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest import mock

import pytest
from sqlalchemy import select

from callerid.models import AuditEntry
from callerid.webhooks import addresses


@pytest.fixture
def allow_loopback(app):
    app.extensions["callerid.webhook_allow"] = addresses.parse_allow_nets("127.0.0.0/8")


def create(client, headers, **body):
    body.setdefault("url", "http://127.0.0.1:9/hook")
    return client.post("/api/webhooks", json=body, headers=headers)


def audit(session) -> list[tuple[str, str]]:
    session.expire_all()
    rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id))
    return [(row.action, row.detail) for row in rows if row.action.startswith("webhook.")]


def test_a_new_endpoint_shows_its_secret_once_and_is_audited(
    client, session, manager, allow_loopback
):
    made = create(client, manager, name="POS", event_types=["call.ringing"], share_alerts=True)
    assert made.status_code == 201
    answer = made.get_json()
    assert answer["secret"].startswith("whsec_")
    assert answer["event_types"] == ["call.ringing"] and answer["share_alerts"] is True
    shown = client.get(f"/api/webhooks/{answer['id']}", headers=manager).get_json()
    assert "secret" not in shown and shown["is_enabled"] is True
    listed = client.get("/api/webhooks", headers=manager).get_json()["endpoints"]
    assert [e["name"] for e in listed] == ["POS"]
    assert audit(session) == [("webhook.create", "event_types, name, share_alerts, url")]


def test_changes_rotation_disabling_and_deleting_are_audited(
    client, session, manager, allow_loopback
):
    made = create(client, manager).get_json()
    path = f"/api/webhooks/{made['id']}"
    changed = client.patch(path, json={"format": "slack", "in_order": True}, headers=manager)
    assert changed.get_json()["format"] == "slack"
    rotated = client.post(f"{path}/secret", headers=manager).get_json()["secret"]
    assert rotated != made["secret"]
    disabled = client.post(f"{path}/disable", headers=manager).get_json()
    assert disabled["is_enabled"] is False and disabled["disabled_reason"] == "disabled by boss"
    assert client.post(f"{path}/enable", headers=manager).get_json()["is_enabled"] is True
    assert client.delete(path, headers=manager).status_code == 204
    assert client.get(path, headers=manager).status_code == 404
    assert [action for action, _ in audit(session)] == [
        "webhook.create",
        "webhook.update",
        "webhook.secret",
        "webhook.disable",
        "webhook.enable",
        "webhook.delete",
    ]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"url": "ftp://example.com/x"}, "url", "https://"),
        ({"url": "http://127.0.0.1:9/hook"}, "url", "CALLERID_WEBHOOK_ALLOW_NETS"),
        ({"url": "http://10.0.0.5/pos"}, "url", "private"),
        ({"url": "https://no-such-host.invalid/"}, "url", "cannot be resolved"),
        (
            {"url": "https://93.184.216.34/hook", "event_types": ["call.exploded"]},
            "event_types",
            "unknown",
        ),
        ({"url": "https://93.184.216.34/hook", "event_types": []}, "event_types", "at least one"),
        ({"url": "https://93.184.216.34/hook", "format": "xml"}, "format", "standard, slack"),
        ({"url": "https://93.184.216.34/hook", "in_order": "yes"}, "in_order", "true or false"),
        ({"url": "https://93.184.216.34/hook", "colour": "red"}, "colour", "no field"),
    ],
)
def test_a_refused_endpoint_names_the_field(client, session, manager, body, field, words):
    refused = client.post("/api/webhooks", json=body, headers=manager)
    assert refused.status_code == 400
    error = refused.get_json()["error"]
    assert error["field"] == field and words in error["message"]
    assert audit(session) == []


def test_a_test_event_and_a_resend_are_queued_with_the_log(
    client, session, manager, allow_loopback
):
    made = create(client, manager).get_json()
    path = f"/api/webhooks/{made['id']}"
    queued = client.post(f"{path}/test", headers=manager)
    assert queued.status_code == 202 and queued.get_json()["kind"] == "webhook.test"
    (row,) = client.get(f"{path}/deliveries", headers=manager).get_json()["deliveries"]
    assert row["status"] == "pending" and row["webhook_id"].startswith("msg_")
    again = client.post(f"{path}/deliveries/{row['id']}/resend", headers=manager)
    assert again.status_code == 202 and again.get_json()["webhook_id"] == row["webhook_id"]
    assert client.post(f"{path}/deliveries/999/resend", headers=manager).status_code == 404


@pytest.mark.parametrize("host", ["a..b", "a" * 64 + ".example.com", "x\u0080y.example.com"])
def test_a_host_name_dns_cannot_encode_is_a_400_not_a_500(client, manager, host):
    # Python's IDNA codec raises UnicodeError, not OSError, for an empty or over-long label or a
    # character a host name cannot hold, before any DNS query is made.
    refused = create(client, manager, url=f"https://{host}/hook")
    assert refused.status_code == 400
    assert refused.get_json()["error"]["field"] == "url"


def test_two_test_events_in_the_same_millisecond_are_both_queued(
    client, session, manager, allow_loopback
):
    made = create(client, manager).get_json()
    frozen = datetime(2026, 12, 5, 18, 0, tzinfo=UTC)
    with mock.patch("callerid.webhooks.delivery.utcnow", return_value=frozen):
        first = client.post(f"/api/webhooks/{made['id']}/test", headers=manager)
        second = client.post(f"/api/webhooks/{made['id']}/test", headers=manager)
    assert (first.status_code, second.status_code) == (202, 202)
    assert first.get_json()["webhook_id"] != second.get_json()["webhook_id"]
