"""Finding 5: failed logins slow down the address that guesses, per name and in all, never a
name everywhere; unknown names are counted and checked exactly like real ones."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from callerid import create_app, db
from callerid.auth import users

from ..conftest import settings_for
from ..factories import add_user

PASSWORD = "correct horse"
GUESSER, DESK_PC = "203.0.113.7", "198.51.100.20"


def attempt(app: Flask, name: str, password: str, address: str, **headers: str):
    client = app.test_client()
    environ = {"REMOTE_ADDR": address}
    page = client.get("/login", environ_base=environ).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {"name": name, "password": password, "csrf_token": token}
    return client.post("/login", data=form, environ_base=environ, headers=headers)


def statuses(app: Flask, name: str, count: int, address: str = GUESSER) -> list[int]:
    return [attempt(app, name, "wrong guess", address).status_code for _ in range(count)]


@pytest.fixture
def desk(session):
    return add_user(session, "desk", "staff", PASSWORD)


def test_five_wrong_guesses_make_that_address_wait_but_not_the_desk(app, desk):
    assert statuses(app, "desk", 5) == [401] * 5
    refused = attempt(app, "desk", PASSWORD, GUESSER)
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 300
    assert "Too many failed attempts" in refused.text
    assert attempt(app, "desk", PASSWORD, DESK_PC).status_code == 302


def test_an_unknown_name_is_answered_exactly_as_a_real_one(app, desk):
    real, unknown = statuses(app, "desk", 6), statuses(app, "nobody", 6)
    assert real == unknown == [401] * 5 + [429]


def test_one_password_hash_check_runs_for_a_known_and_an_unknown_name(app, desk, monkeypatch):
    checks: list[str] = []
    real_check = users.check_password_hash

    def counted(hashed: str, password: str) -> bool:
        checks.append(hashed.split("$", 1)[0])
        return real_check(hashed, password)

    monkeypatch.setattr(users, "check_password_hash", counted)
    attempt(app, "desk", "wrong guess", GUESSER)
    attempt(app, "nobody", "wrong guess", GUESSER)
    assert len(checks) == 2 and checks[0] == checks[1]  # one each, of the same method


def test_a_throttled_guess_checks_no_password_at_all(app, desk, monkeypatch):
    statuses(app, "desk", 5)
    monkeypatch.setattr(users, "check_password_hash", lambda *_: pytest.fail("checked"))
    assert attempt(app, "desk", PASSWORD, GUESSER).status_code == 429


def test_guessing_at_many_names_from_one_address_makes_it_wait_for_every_name(app, desk):
    app.config["CALLERID_LOGIN_TRIES_PER_ADDRESS"] = 3
    assert [attempt(app, f"guess{n}", "x", GUESSER).status_code for n in range(3)] == [401] * 3
    assert attempt(app, "desk", PASSWORD, GUESSER).status_code == 429
    assert attempt(app, "desk", PASSWORD, DESK_PC).status_code == 302


def test_a_good_login_forgets_that_names_failures_from_its_address(app, desk):
    statuses(app, "desk", 4)
    assert attempt(app, "desk", PASSWORD, GUESSER).status_code == 302
    assert statuses(app, "desk", 4) == [401] * 4


def test_the_counts_are_shared_by_every_instance_on_the_database(app, desk, database_url, tmp_path):
    other = create_app(settings_for(database_url, tmp_path / "other"))
    try:
        statuses(app, "desk", 3)
        assert statuses(other, "desk", 3) == [401, 401, 429]
    finally:
        db.engine_for(other).dispose()


def test_behind_a_trusted_proxy_each_client_has_its_own_count(database_url, tmp_path, session):
    add_user(session, "desk", "staff", PASSWORD)
    proxied = create_app(settings_for(database_url, tmp_path / "i", CALLERID_TRUSTED_PROXIES=1))
    try:
        for _ in range(5):
            attempt(proxied, "desk", "wrong", "10.0.0.2", **{"X-Forwarded-For": GUESSER})
        guesser = attempt(proxied, "desk", PASSWORD, "10.0.0.2", **{"X-Forwarded-For": GUESSER})
        colleague = attempt(proxied, "desk", PASSWORD, "10.0.0.2", **{"X-Forwarded-For": DESK_PC})
        assert (guesser.status_code, colleague.status_code) == (429, 302)
    finally:
        db.engine_for(proxied).dispose()


def test_without_a_trusted_proxy_a_forged_forwarded_for_escapes_nothing(app, desk):
    for n in range(5):
        attempt(app, "desk", "wrong", GUESSER, **{"X-Forwarded-For": f"192.0.2.{n}"})
    forged = attempt(app, "desk", PASSWORD, GUESSER, **{"X-Forwarded-For": "192.0.2.99"})
    assert forged.status_code == 429
