"""The migrations build exactly the schema the models describe, on every engine."""

from __future__ import annotations

import sqlite3

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from callerid import create_app, db
from callerid.auth import tokens
from callerid.cli.database import upgrade
from callerid.db import Base

from .conftest import _empty_postgres, settings_for


def test_migrations_match_the_models(database_url, runner, tmp_path):
    if database_url.startswith("sqlite"):
        database_url = f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
    else:
        _drop_all(database_url)
    upgrade(database_url)
    engine = create_engine(database_url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert diff == []
    if database_url.startswith("postgresql"):
        _empty_postgres(database_url)


def _drop_all(url: str) -> None:
    engine = create_engine(url)
    Base.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    engine.dispose()


def test_db_upgrade_creates_a_new_database_and_is_safe_to_repeat(tmp_path):
    app = create_app(settings_for(f"sqlite:///{tmp_path / 'new.sqlite3'}", tmp_path / "i"))
    runner = app.test_cli_runner()
    first = runner.invoke(args=["db", "upgrade"])
    again = runner.invoke(args=["db", "upgrade"])
    db.engine_for(app).dispose()
    assert first.exit_code == 0, first.output
    assert again.exit_code == 0, again.output
    assert "up to date" in again.output
    assert (tmp_path / "new.sqlite3").exists()


def test_a_new_sqlite_database_is_left_in_wal_mode(tmp_path):
    """So that a new install's first burst of screens and calls never finds the file locked
    while its connections race to switch it to WAL (one screen got a 503 that way)."""
    path = tmp_path / "fresh.sqlite3"
    upgrade(f"sqlite:///{path}")
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        connection.close()


def test_tokens_issued_before_kinds_existed_keep_working_as_user_tokens(database_url, tmp_path):
    if database_url.startswith("sqlite"):
        database_url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    else:
        _drop_all(database_url)
    upgrade(database_url, "5c1f0e7a9b2d")  # the schema before token kinds
    old_token = tokens.PREFIX + "issued-long-ago"
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (name, role, password_hash, is_active, failed_logins,"
                " created_at) VALUES ('wallboard', 'staff', 'x', true, 0, '2026-11-01 10:00:00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO api_tokens (user_id, token_hash, created_at)"
                " SELECT id, :digest, '2026-11-01 10:00:00' FROM users"
            ),
            {"digest": tokens.digest(old_token)},
        )
    engine.dispose()
    upgrade(database_url)
    app = create_app(settings_for(database_url, tmp_path / "i"))
    response = app.test_client().get("/api/calls", headers={"Authorization": f"Bearer {old_token}"})
    db.engine_for(app).dispose()
    assert response.status_code == 200
    if database_url.startswith("postgresql"):
        _empty_postgres(database_url)


def test_existing_customers_upgrade_with_empty_alerts_and_a_search_key(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    upgrade(url, "5c1f0e7a9b2d")  # before alerts and pronunciation
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO customers (name, salutation, preferred_name, email, notes, preferences, "
            "tags, is_vip, do_not_greet, created_at, updated_at) VALUES ('Tomás Herrera', '', "
            "'Tom', '', 'Peanut allergy', '', '', 1, 0, '2026-01-01', '2026-01-01')"
        )
    upgrade(url)
    with engine.connect() as connection:
        row = connection.exec_driver_sql(
            "SELECT name, notes, alerts, pronunciation, search_key FROM customers"
        ).one()
    engine.dispose()
    # Nothing is moved into alerts silently: the notes stay where they were. The search key is
    # filled in for customers already there.
    assert tuple(row) == ("Tomás Herrera", "Peanut allergy", "", "", "tomas herrera tom")
