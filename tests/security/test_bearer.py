"""Finding 7: a bearer header is a credential or a 401, never a way around CSRF and Origin."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from callerid.models import Customer

from ..factories import add_customer, add_user, log_in, token_for

EVIL = {"Origin": "https://evil.example"}


def customers_in(session) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(Customer))


@pytest.mark.parametrize("header", ["Bearer junk", "Bearer ", "bearer cid_revoked"])
def test_a_session_with_a_junk_bearer_header_cannot_create_a_customer(client, session, header):
    add_user(session, "boss", "manager")
    log_in(client, "boss")
    response = client.post(
        "/api/customers", json={"name": "Cleo Park"}, headers={"Authorization": header, **EVIL}
    )
    assert response.status_code == 401
    assert "invalid_token" in response.headers["WWW-Authenticate"]
    assert customers_in(session) == 0


def test_a_session_with_a_junk_bearer_header_cannot_erase_a_customer(client, session):
    add_user(session, "boss", "manager")
    customer = add_customer(session, "Cleo Park")
    log_in(client, "boss")
    response = client.delete(
        f"/api/customers/{customer.id}", headers={"Authorization": "Bearer junk", **EVIL}
    )
    assert response.status_code == 401
    assert client.get(f"/api/customers/{customer.id}").get_json()["name"] == "Cleo Park"


def test_a_live_bearer_token_acts_as_its_own_user_not_the_sessions(client, session):
    add_user(session, "boss", "manager")
    desk_token = token_for(session, add_user(session, "desk", "staff"))
    log_in(client, "boss")
    headers = {"Authorization": f"Bearer {desk_token}"}
    assert client.get("/api/customers", headers=headers).status_code == 403
    assert client.get("/api/customers").status_code == 200


def test_a_metrics_token_beside_a_managers_session_opens_no_api(client, session):
    add_user(session, "boss", "manager")
    metrics_token = token_for(session, add_user(session, "prom", "staff"), kind="metrics")
    log_in(client, "boss")
    headers = {"Authorization": f"Bearer {metrics_token}", **EVIL}
    response = client.post("/api/customers", json={"name": "Cleo Park"}, headers=headers)
    assert response.status_code == 401
    assert customers_in(session) == 0


def test_a_junk_bearer_header_on_a_page_is_a_401_not_a_login_redirect(client, session):
    add_user(session, "boss", "manager")
    log_in(client, "boss")
    assert client.get("/customers", headers={"Authorization": "Bearer junk"}).status_code == 401
