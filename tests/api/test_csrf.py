"""Session-authenticated writes need the page's CSRF token; bearer-token clients need none."""

from __future__ import annotations

from sqlalchemy import func, select

from callerid.models import Customer

from ..factories import add_user, log_in, token_for


def customers_in(session) -> int:
    return session.scalar(select(func.count()).select_from(Customer))


def test_session_json_write_without_csrf_header_is_refused(client, session):
    add_user(session, "boss", "manager")
    log_in(client, "boss")
    response = client.post("/api/customers", json={"name": "Cleo Park"})
    assert response.status_code in (400, 403)
    assert response.get_json()["error"]["code"] == response.status_code
    assert customers_in(session) == 0


def test_session_json_write_without_csrf_header_is_forbidden(client, session):
    add_user(session, "boss", "manager")
    log_in(client, "boss")
    assert client.post("/api/customers", json={"name": "Cleo Park"}).status_code == 403


def test_session_json_write_with_the_pages_csrf_header_is_accepted(client, session):
    add_user(session, "boss", "manager")
    token = log_in(client, "boss")
    response = client.post(
        "/api/customers", json={"name": "Cleo Park"}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 201
    assert customers_in(session) == 1


def test_session_write_from_another_origin_is_refused_even_with_a_token(client, session):
    add_user(session, "boss", "manager")
    token = log_in(client, "boss")
    response = client.post(
        "/api/customers",
        json={"name": "Cleo Park"},
        headers={"X-CSRFToken": token, "Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert customers_in(session) == 0


def test_bearer_token_write_needs_no_csrf_header(client, session):
    token = token_for(session, add_user(session, "boss", "manager"))
    response = client.post(
        "/api/customers", json={"name": "Cleo Park"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 201
    assert customers_in(session) == 1
