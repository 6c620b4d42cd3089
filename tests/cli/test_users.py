"""flask users create | token."""

from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from callerid import create_app, db
from callerid.auth import use_hash_method
from callerid.models import User

from ..conftest import TEST_HASH_METHOD, settings_for
from ..factories import add_user
from .test_tokens import noted_by


def test_a_manager_is_created_with_a_hashed_password(runner, session):
    result = runner.invoke(
        args=["users", "create", "anna", "--role", "manager", "--password", "s3cret-pass"]
    )
    assert result.exit_code == 0, result.output
    user = session.scalar(select(User).where(User.name == "anna"))
    assert user.role == "manager"
    assert "s3cret-pass" not in user.password_hash


def test_passwords_are_hashed_with_scrypt_unless_configured_otherwise(
    database_url, tmp_path, monkeypatch
):
    monkeypatch.delenv("CALLERID_PASSWORD_HASH")
    settings = settings_for(database_url, tmp_path / "default")
    del settings["CALLERID_PASSWORD_HASH"]
    try:
        app = create_app(settings)
        result = app.test_cli_runner().invoke(
            args=["users", "create", "anna", "--password", "s3cret-pass"]
        )
        assert result.exit_code == 0, result.output
        with db.new_session(app) as session:
            stored = session.scalar(select(User.password_hash).where(User.name == "anna"))
        db.engine_for(app).dispose()
    finally:
        use_hash_method(TEST_HASH_METHOD)
    assert stored.startswith("scrypt:")


def test_a_weaker_hash_method_is_announced_in_the_log(database_url, tmp_path, caplog):
    settings = settings_for(database_url, tmp_path / "i", TESTING=False)
    with caplog.at_level(logging.WARNING):
        db.engine_for(create_app(settings)).dispose()
    assert f"passwords are hashed with {TEST_HASH_METHOD} instead of scrypt" in caplog.text


def test_a_password_hashed_another_way_is_re_hashed_at_the_next_login(client, session):
    user = add_user(session, "anna", "staff", "correct horse")
    user.password_hash = generate_password_hash("correct horse", "pbkdf2:sha256:2")
    session.commit()
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {"name": "anna", "password": "correct horse", "csrf_token": csrf}
    assert client.post("/login", data=form).status_code == 302
    session.expire_all()
    assert user.password_hash.startswith(f"{TEST_HASH_METHOD}$")
    assert check_password_hash(user.password_hash, "correct horse")


def test_an_unknown_hash_method_stops_the_app_from_starting(database_url, tmp_path):
    with pytest.raises(ValueError):
        create_app(settings_for(database_url, tmp_path / "i", CALLERID_PASSWORD_HASH="rot13"))


def test_the_password_is_asked_for_when_not_given(runner, session):
    result = runner.invoke(args=["users", "create", "desk"], input="long-enough\nlong-enough\n")
    assert result.exit_code == 0, result.output
    assert session.scalar(select(User.role).where(User.name == "desk")) == "staff"


def test_a_taken_name_or_short_password_is_refused_clearly(runner):
    runner.invoke(args=["users", "create", "anna", "--password", "long-enough"])
    taken = runner.invoke(args=["users", "create", "anna", "--password", "long-enough"])
    short = runner.invoke(args=["users", "create", "bob", "--password", "short"])
    assert taken.exit_code != 0 and "already exists" in taken.output
    assert short.exit_code != 0 and "8 characters" in short.output


def test_a_token_is_printed_on_the_last_line_and_works(runner, session, client):
    runner.invoke(args=["users", "create", "wallboard", "--password", "long-enough"])
    result = runner.invoke(args=["users", "token", "wallboard"])
    assert result.exit_code == 0
    token = result.output.strip().splitlines()[-1]
    assert client.get("/api/calls", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert noted_by(client, session, token) == "wallboard"


def test_a_token_for_nobody_is_refused(runner):
    result = runner.invoke(args=["users", "token", "ghost"])
    assert result.exit_code != 0
    assert "no user named 'ghost'" in result.output
