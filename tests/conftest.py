"""Fixtures: an app on a fresh database (SQLite file, or a real PostgreSQL server), its client,
CLI runner and a session. Every test that takes ``app`` runs once per database engine."""

from __future__ import annotations

import functools
import os
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.orm import Session

from callerid import create_app, db, errors, models
from callerid.auth import use_hash_method
from callerid.cli.database import upgrade
from callerid.db import Base
from callerid.events import sequencer
from callerid.telephony import replayer

from . import pg
from .twilio import AUTH_TOKEN

assert models  # imported so that Base.metadata knows every table before create_all
DESK = "+12025550199"
# One round of PBKDF2 instead of scrypt: the suite logs in about a thousand times per engine, and
# scrypt's 70 ms each was 40% of its time. Set in the environment too, so that the gunicorn and
# CLI processes the tests start hash cheaply as well. tests/cli/test_users.py checks the default.
TEST_HASH_METHOD = "pbkdf2:sha256:1"
os.environ["CALLERID_PASSWORD_HASH"] = TEST_HASH_METHOD
use_hash_method(TEST_HASH_METHOD)  # also for users a test makes before any create_app
# In-process tests run at this moment, a Wednesday afternoon far from midnight, month's end or a
# change of daylight saving time, so that no result depends on when the suite runs.
FROZEN_AT = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock(request: pytest.FixtureRequest) -> Iterator[object]:
    """The clock starts at ``FROZEN_AT`` and ticks on from there (timeouts and sleeps work as
    usual). Tests of a running server (marked e2e) keep the real clock: a server in another
    process cannot share ours, so they date what they test through its data instead."""
    if request.node.get_closest_marker("e2e"):
        yield None
        return
    with time_machine.travel(FROZEN_AT, tick=True) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def failure_log(monkeypatch: pytest.MonkeyPatch) -> Iterator[errors.FailureLog]:
    """Each test counts its own failures: a closing "(and N more like it)" line of an earlier
    test must not land in this one's log."""
    log = errors.FailureLog()
    monkeypatch.setattr(errors, "failures", log)
    yield log
    log.forget()


ENGINES = [
    e.strip()
    for e in os.environ.get("CALLERID_TEST_DATABASES", "sqlite,postgresql").split(",")
    if e.strip()
]


SERVER_TESTS = ("tests/e2e/", "tests/bench/")  # they start gunicorn, Chromium or nginx


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out every test that would need an engine CALLERID_TEST_DATABASES does not name, also
    those pinned to one engine, so that a machine without PostgreSQL can run the rest. Mark the
    tests that start servers or a browser ``e2e``."""
    unwanted = [item for item in items if _engines_of(item) - set(ENGINES)]
    if unwanted:
        config.hook.pytest_deselected(items=unwanted)
        items[:] = [item for item in items if item not in unwanted]
    for item in items:
        if item.nodeid.startswith(SERVER_TESTS):
            item.add_marker(pytest.mark.e2e)


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """Under ``--dist loadgroup``, the browser and server tests (``tests/e2e/``) are one unit of
    work and the benchmarks' smoke runs (``tests/bench/``) another, each run one test at a time
    on a process of its own, while the remaining process (or processes) takes the fast tests
    one by one. Two gunicorns of one unit never compete; one of each unit may. The server tests
    wait on sockets and browsers a third of the time, which a third process fills: on two cores,
    three processes finish the suite about 40 s sooner than two.

    Grouping is decided here from the test's path rather than by ``xdist_group`` marks: with
    pytest 9.2 and pytest-xdist 3.8 those are silently ignored (pytest-xdist issue 1386)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ServersTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            for folder in SERVER_TESTS:
                if nodeid.startswith(folder):
                    return folder
            return nodeid

    # The largest units go out first, so the server tests start at once.
    return ServersTogether(config, log)


def _engines_of(item: pytest.Item) -> set[str]:
    callspec = getattr(item, "callspec", None)
    params = callspec.params.values() if callspec else ()
    engines = {value for value in params if value in ("sqlite", "postgresql")}
    if {"postgres", "postgres_ok"} & set(getattr(item, "fixturenames", ())):
        engines.add("postgresql")
    return engines


@pytest.fixture(scope="session")
def postgres() -> Iterator[pg.Cluster]:
    """One PostgreSQL server for the session, schema made by our migrations."""
    cluster = pg.Cluster().start()
    upgrade(cluster.url)
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def sqlite_schema(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite database with every table, made once: a copy costs about a millisecond,
    create_all 70 ms (and up to half a second when the disk is busy)."""
    path = tmp_path_factory.mktemp("schema") / "empty.sqlite3"
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    with engine.connect() as connection:  # as `flask db upgrade` leaves a real database
        connection.exec_driver_sql("PRAGMA journal_mode=WAL")
    engine.dispose()
    return path


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "callerid.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_schema"), path)
        path.chmod(0o600)  # as callerid creates it: no warning about a readable database
        return f"sqlite:///{path}"
    cluster: pg.Cluster = request.getfixturevalue("postgres")
    _empty_postgres(cluster.url)
    return cluster.url


def _empty_postgres(url: str) -> None:
    """Every table emptied and every id counting from 1 again, as a fresh database has them.

    DELETE rather than TRUNCATE: on the few rows a test leaves, TRUNCATE's new files for every
    table cost 30 ms a test (40 s of the suite), DELETE under 2 ms. One engine per server is kept
    for the session."""
    engine = _cleaner_for(url)
    with engine.begin() as connection:
        # A connection a test left open would otherwise make this wait forever.
        connection.execute(text("SET LOCAL lock_timeout = '10s'"))
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
        connection.execute(text("SELECT setval(oid, 1, false) FROM pg_class WHERE relkind = 'S'"))


@functools.cache
def _cleaner_for(url: str) -> Engine:
    return create_engine(url, pool_size=1, pool_pre_ping=True)  # tests end connections


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
        "CALLERID_PASSWORD_HASH": TEST_HASH_METHOD,
        "CALLERID_TIMEZONE": "UTC",
        **extra,
    }


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = create_app(settings_for(database_url, tmp_path / "instance"))
    yield app
    for background in ("callerid.follower", "callerid.sequencer"):
        running = app.extensions.get(background)
        if running is not None:
            running.stop()
    replayer.stop(app)
    db.engine_for(app).dispose()


def wait_for_positions(session: Session, seconds: float = 10) -> None:
    """Until every committed event has its position (the sequencer's work, on PostgreSQL)."""
    deadline = time.monotonic() + seconds
    while session.scalar(select(func.count()).where(models.Event.position.is_(None))):
        session.rollback()
        assert time.monotonic() < deadline, "events were left without a position"
        time.sleep(0.01)
    session.rollback()


@pytest.fixture
def positions(app: Flask) -> Iterator[None]:
    """On PostgreSQL, the sequencer that gives events their positions, as a process following
    events runs it (on SQLite an event's position is its id, given by its own transaction)."""
    candidate = sequencer.for_engine(db.engine_for(app))
    if candidate is None:
        yield
        return
    # Not necessarily the leader: a sequencer another test's server left running may be.
    candidate.start()
    yield
    candidate.stop()


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
