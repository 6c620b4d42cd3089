"""Fixtures: an app on a fresh database (SQLite file, or a real PostgreSQL server), its client,
CLI runner and a session. Every test that takes ``app`` runs once per database engine."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from callerid import create_app, db, models
from callerid.cli.database import upgrade
from callerid.db import Base

from . import pg
from .twilio import AUTH_TOKEN

assert models  # imported so that Base.metadata knows every table before create_all
DESK = "+12025550199"
ENGINES = [
    e.strip()
    for e in os.environ.get("CALLERID_TEST_DATABASES", "sqlite,postgresql").split(",")
    if e.strip()
]


@pytest.fixture(scope="session")
def postgres() -> Iterator[pg.Cluster]:
    """One PostgreSQL server for the session, schema made by our migrations."""
    cluster = pg.Cluster().start()
    upgrade(cluster.url)
    yield cluster
    cluster.stop()


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'callerid.sqlite3'}"
        engine = create_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()
        return url
    cluster: pg.Cluster = request.getfixturevalue("postgres")
    _empty_postgres(cluster.url)
    return cluster.url


def _empty_postgres(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        # A connection a test left open would otherwise make this wait forever.
        connection.execute(text("SET LOCAL lock_timeout = '10s'"))
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


def settings_for(database_url: str, instance: Path, **extra: object) -> dict[str, object]:
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "test-secret",
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "CALLERID_FORWARD_TO": DESK,
        "CALLERID_DEFAULT_REGION": "US",
        "CALLERID_PUBLIC_URL": None,
        "CALLERID_TRUSTED_PROXIES": 0,
        **extra,
    }


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = create_app(settings_for(database_url, tmp_path / "instance"))
    yield app
    follower = app.extensions.get("callerid.follower")
    if follower is not None:
        follower.stop()
    db.engine_for(app).dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    with db.new_session(app) as session:
        yield session
