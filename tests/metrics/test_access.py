"""Who may read GET /metrics: a metrics token or an allow-listed address, nobody else."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from callerid import create_app, db
from callerid.auth import tokens
from callerid.metrics.access import BadAllowList

from ..conftest import settings_for
from ..factories import add_user, token_for


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def app_with(database_url, tmp_path) -> Iterator[Callable[..., Flask]]:
    """Apps on the test database with some settings changed."""
    made = []

    def make(**settings: object) -> Flask:
        made.append(create_app(settings_for(database_url, tmp_path / "i", **settings)))
        return made[-1]

    yield make
    for app in made:
        db.engine_for(app).dispose()


def test_without_credentials_a_scrape_gets_401_asking_for_a_bearer_token(client):
    response = client.get("/metrics")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json["error"]["message"] == "Send Authorization: Bearer <a metrics token>."


def test_a_metrics_token_reads_the_metrics(client, session):
    token = token_for(session, add_user(session, "ops"), kind="metrics")
    response = client.get("/metrics", headers=bearer(token))
    assert response.status_code == 200
    assert response.content_type == "text/plain; version=0.0.4; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    assert "# TYPE callerid_webhook_requests_total counter" in response.get_data(as_text=True)


def test_a_token_that_can_read_customers_is_refused(client, session):
    token = token_for(session, add_user(session, "maria", role="manager"))
    assert client.get("/api/customers", headers=bearer(token)).status_code == 200
    response = client.get("/metrics", headers=bearer(token))
    assert response.status_code == 403
    assert "metrics" in response.json["error"]["message"]


def test_a_logged_in_manager_is_refused(client, session):
    add_user(session, "maria", role="manager", password="correct horse")
    page = client.get("/login").get_data(as_text=True)
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    form = {"name": "maria", "password": "correct horse", "csrf_token": csrf}
    assert client.post("/login", data=form).status_code == 302
    assert client.get("/metrics").status_code == 403


def test_a_revoked_metrics_token_gets_401(client, session):
    owner = add_user(session, "ops")
    token = token_for(session, owner, kind="metrics")
    (row,) = tokens.of_user(session, owner)
    tokens.revoke(session, owner, row.id, by=owner)
    session.commit()
    assert client.get("/metrics", headers=bearer(token)).status_code == 401


def test_an_allow_listed_address_needs_no_token(app_with):
    client = app_with(CALLERID_METRICS_ALLOW="10.0.0.0/8, 192.0.2.7").test_client()
    for address in ("10.20.30.40", "192.0.2.7", "::ffff:10.1.1.1"):
        response = client.get("/metrics", environ_base={"REMOTE_ADDR": address})
        assert response.status_code == 200, address
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.8"}).status_code == 401


def test_behind_a_trusted_proxy_the_forwarded_client_address_is_checked(app_with):
    client = app_with(CALLERID_METRICS_ALLOW="10.0.0.0/8", CALLERID_TRUSTED_PROXIES=1).test_client()
    nginx = {"REMOTE_ADDR": "127.0.0.1"}
    inside = client.get("/metrics", environ_base=nginx, headers={"X-Forwarded-For": "10.0.0.9"})
    outside = client.get("/metrics", environ_base=nginx, headers={"X-Forwarded-For": "203.0.113.5"})
    assert (inside.status_code, outside.status_code) == (200, 401)


def test_without_a_trusted_proxy_a_forwarded_header_proves_nothing(app_with):
    client = app_with(CALLERID_METRICS_ALLOW="10.0.0.0/8").test_client()
    response = client.get(
        "/metrics",
        environ_base={"REMOTE_ADDR": "203.0.113.5"},
        headers={"X-Forwarded-For": "10.0.0.9"},
    )
    assert response.status_code == 401


def test_an_allow_list_that_is_not_addresses_stops_the_app_at_start(app_with):
    with pytest.raises(BadAllowList, match="'10.0.0.0/33' is not an address or network"):
        app_with(CALLERID_METRICS_ALLOW="127.0.0.1, 10.0.0.0/33")
