"""Finding 3: logins that can end. Logout ends that login, wherever its cookie was copied;
a password reset, deactivation and "log out everywhere" end all of a user's logins, open
streams included; the session and its CSRF token are new at every login."""

from __future__ import annotations

import re
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError

from callerid.auth import tokens
from callerid.auth.login_sessions import LiveChecks

from ..factories import add_user, log_in, token_for

PASSWORD = "correct horse"
STAFF_ONLY = "/api/missed/count"  # any route that needs a login and answers JSON


def copy_of(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of ``client``'s session cookie."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def csrf_of(client: FlaskClient, path: str = "/account") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def is_logged_in(client: FlaskClient) -> bool:
    return client.get(STAFF_ONLY).status_code == 200


@pytest.fixture
def desk(session):
    return add_user(session, "desk", "staff", PASSWORD)


def test_logout_ends_that_login_for_every_copy_of_its_cookie(app, client, desk):
    log_in(client, "desk")
    stolen = copy_of(app, client)
    assert is_logged_in(stolen)
    assert client.post("/logout", data={"csrf_token": csrf_of(client)}).status_code == 302
    assert not is_logged_in(client)
    assert not is_logged_in(stolen)


def test_one_screen_logging_out_leaves_the_other_screen_of_that_user_logged_in(app, desk):
    first, second = app.test_client(), app.test_client()
    log_in(first, "desk")
    log_in(second, "desk")
    first.post("/logout", data={"csrf_token": csrf_of(first)})
    assert not is_logged_in(first)
    assert is_logged_in(second)


def test_a_password_reset_by_a_manager_ends_every_login_of_that_user(app, client, session, desk):
    add_user(session, "boss", "manager", PASSWORD)
    screens = [app.test_client(), app.test_client()]
    for screen in screens:
        log_in(screen, "desk")
    log_in(client, "boss")
    form = {"csrf_token": csrf_of(client), "mode": "typed", "password": "a new password"}
    assert client.post(f"/users/{desk.id}/password", data=form).status_code < 400
    assert [is_logged_in(screen) for screen in screens] == [False, False]
    assert is_logged_in(client)


def test_deactivation_ends_every_login_and_reactivation_brings_none_back(
    app, client, session, desk
):
    add_user(session, "boss", "manager", PASSWORD)
    screen = app.test_client()
    log_in(screen, "desk")
    log_in(client, "boss")
    client.post(f"/users/{desk.id}/deactivate", data={"csrf_token": csrf_of(client)})
    assert not is_logged_in(screen)
    client.post(f"/users/{desk.id}/reactivate", data={"csrf_token": csrf_of(client)})
    assert not is_logged_in(screen)


def test_log_out_everywhere_ends_every_login_of_mine_and_no_one_elses(app, client, session, desk):
    add_user(session, "anna", "staff", PASSWORD)
    elsewhere, colleague = app.test_client(), app.test_client()
    log_in(elsewhere, "desk")
    log_in(colleague, "anna")
    log_in(client, "desk")
    assert "logged in on <strong data-live-logins>2</strong>" in client.get("/account").text
    response = client.post("/account/logout-everywhere", data={"csrf_token": csrf_of(client)})
    assert response.headers["Location"] == "/login"
    assert [is_logged_in(c) for c in (client, elsewhere, colleague)] == [False, False, True]


def test_changing_my_password_logs_out_my_other_screens_and_keeps_this_one(app, client, desk):
    elsewhere = app.test_client()
    log_in(elsewhere, "desk")
    log_in(client, "desk")
    form = {"csrf_token": csrf_of(client), "current": PASSWORD, "new": "a longer secret"}
    response = client.post("/account/password", data=form, follow_redirects=True)
    assert "Password changed." in response.text
    assert is_logged_in(client)
    assert not is_logged_in(elsewhere)
    assert client.post("/logout", data={"csrf_token": csrf_of(client)}).status_code == 302
    log_in(client, "desk", "a longer secret")


def test_a_wrong_current_password_changes_nothing(app, client, desk):
    elsewhere = app.test_client()
    log_in(elsewhere, "desk")
    log_in(client, "desk")
    form = {"csrf_token": csrf_of(client), "current": "not it", "new": "a longer secret"}
    response = client.post("/account/password", data=form)
    assert response.status_code == 400
    assert "That is not your current password." in response.text
    assert is_logged_in(elsewhere)


def test_login_renews_the_session_and_its_csrf_token(app, client, desk):
    before_token = csrf_of(client, "/login")
    before_login = copy_of(app, client)
    after_token = log_in(client, "desk")
    assert after_token != before_token
    assert not is_logged_in(before_login)  # the cookie of the login page logs nobody in
    refused = client.post("/api/customers", json={}, headers={"X-CSRFToken": before_token})
    assert refused.status_code == 403


def test_an_open_stream_ends_within_a_heartbeat_of_logging_out_everywhere(app, client, desk):
    app.config["CALLERID_HEARTBEAT"] = 0.2
    log_in(client, "desk")
    screen = copy_of(app, client)
    stream = screen.get("/events")
    try:
        lines = iter(stream.response)
        assert next(lines).startswith(b"retry:")
        assert next(lines) == b": heartbeat\n\n"  # live
        client.post("/account/logout-everywhere", data={"csrf_token": csrf_of(client)})
        started = time.monotonic()
        rest = list(lines)  # ends when the server closes the stream
        # A heartbeat and one live check (1 s); the rest is room for a loaded machine.
        assert time.monotonic() - started < 0.2 + 1.0 + 5
        assert all(line == b": heartbeat\n\n" for line in rest)
    finally:
        stream.close()
    assert screen.get("/events").status_code == 401


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # as the login's, above
def test_a_token_stream_ends_within_a_heartbeat_of_its_token_being_revoked(app, session, desk):
    app.config["CALLERID_HEARTBEAT"] = 0.2
    secret = token_for(session, desk)
    row = tokens.live_token(session, secret)
    stream = app.test_client().get("/events", headers={"Authorization": f"Bearer {secret}"})
    try:
        lines = iter(stream.response)
        assert next(lines).startswith(b"retry:")
        tokens.revoke(session, desk, row.id, by=desk)
        session.commit()
        started = time.monotonic()
        list(lines)  # ends when the server closes the stream
        assert time.monotonic() - started < 0.2 + 1.0 + 5
    finally:
        stream.close()


def test_a_stream_stays_open_while_the_database_cannot_be_asked():
    """During a database outage nothing can end a login either: screens keep their stream
    (and their place in it) instead of all reconnecting into 503s."""
    checks = LiveChecks(seconds=0)

    def database_away():
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    assert checks.is_live(database_away, "login", 1) is True
    assert checks.is_live(database_away, "token", 7) is True
