"""The database: one engine and session factory per app, SQLite tuned for a busy front desk.

Over 300 lines because the engine's making, SQLite's tuning and lock waits, and the per-request
session are one lifecycle that ``init_app`` wires, and every module imports them from here."""

from __future__ import annotations

import itertools
import logging
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Flask, g
from sqlalchemy import (
    BigInteger,
    Connection,
    CursorResult,
    DateTime,
    Engine,
    Integer,
    Result,
    String,
    Table,
    create_engine,
    event,
    text,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from . import database_url
from .pool import CountedPool, Fit, fit_engine

log = logging.getLogger(__name__)


class Base(DeclarativeBase):
    pass


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC to the second, as the API and events show times: 2026-11-20T18:02:11Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


# SQLite only gives a 64-bit autoincrement to "INTEGER PRIMARY KEY"; PostgreSQL gets BIGINT.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every engine (SQLite would otherwise hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where aware UTC is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def make_engine(
    url: str,
    timeout: float = 1.0,
    pool_size: int = 10,
    max_overflow: int = 10,
    max_waiting: int = 100,
) -> Engine:
    """Return an engine whose waits are bounded by ``timeout`` seconds, so a stuck database turns
    into a quick error on the webhook path instead of a caller listening to silence.

    Each process holds at most ``pool_size + max_overflow`` connections (on PostgreSQL also a
    LISTEN connection and a sequencer candidate's): ``fit_to_server`` trims that to PostgreSQL's
    max_connections, see docs/deployment.md. More connections than that do not buy throughput on
    a few cores; under gevent, what drains a pool is a burst of greenlets, which queue for it,
    at most ``max_waiting`` at a time (``pool.CountedPool``)."""
    if url.startswith("sqlite"):
        database_url.make_private(url)
        engine = create_engine(
            url,
            # No busy wait inside SQLite: it blocks the whole process (under gevent, every
            # request of the worker). _sqlite_execute waits for the lock in Python instead.
            connect_args={"timeout": 0, "check_same_thread": False},
            poolclass=CountedPool,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=timeout,
            # The connection used last, again: its page cache is the warm one.
            pool_use_lifo=True,
        )
        event.listen(engine, "connect", _tune_sqlite(timeout))
        for name in ("do_execute", "do_execute_no_params", "do_executemany"):
            event.listen(engine, name, _sqlite_execute(name, timeout), retval=True)
        return _queue_at_most(engine, max_waiting)
    connect_args: dict[str, Any] = {}
    if url.startswith("postgresql"):
        # libpq waits forever for an unresponsive server by default.
        connect_args = {"connect_timeout": max(1, round(timeout))}
    engine = create_engine(
        url,
        connect_args=connect_args,
        poolclass=CountedPool,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=timeout,
        pool_pre_ping=True,
    )
    return _queue_at_most(engine, max_waiting)


def _queue_at_most(engine: Engine, max_waiting: int) -> Engine:
    # create_engine() passes only the pool options it knows, so the queue bound is set after.
    pool = engine.pool
    if not isinstance(pool, CountedPool):
        raise TypeError(f"expected a CountedPool, got {type(pool).__name__}")
    pool.max_waiting = max_waiting
    return engine


def changed_rows(result: Result[Any]) -> int:
    """How many rows an UPDATE, DELETE or INSERT statement changed; 0 when the driver cannot say.
    Raises TypeError for a SELECT's result, which has no such count."""
    # Session.execute() is typed to return a Result whatever the statement; a DML statement's is a
    # CursorResult, the one that carries rowcount.
    if not isinstance(result, CursorResult):
        raise TypeError(
            f"{type(result).__name__} has no row count: not an UPDATE, DELETE or INSERT"
        )
    return result.rowcount or 0


def table_of(model: type[Base]) -> Table:
    """The Table a model is mapped to, for Core statements (bulk INSERT, UPDATE, COPY)."""
    # __table__ is typed as any FromClause (a model may map a join); ours each map one table.
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a single table")
    return table


def max_length(model: type[Base], column: str) -> int:
    """The declared length of a text column (``String(120)`` -> 120). Raises TypeError for a
    column without one."""
    kind = table_of(model).c[column].type
    if not isinstance(kind, String) or kind.length is None:
        raise TypeError(f"{model.__name__}.{column} has no declared length")
    return kind.length


class NotWal(RuntimeError):
    """SQLite would not put the database in WAL mode. Without it a reader blocks the writers and
    two writers can wait on each other for good, which no retry resolves: refuse to run."""

    def __init__(self, mode: str) -> None:
        super().__init__(
            f"SQLite kept the database in {mode!r} journal mode instead of WAL, which callerid "
            "needs (WAL works only on a local disk, with a file, not in memory): put "
            "DATABASE_URL's file on a local disk, or use PostgreSQL"
        )


def _tune_sqlite(timeout: float) -> Any:
    def tune(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # WAL lets screens read while a webhook writes; synchronous=NORMAL is durable across
        # process crashes and spares an fsync per commit (see docs/benchmarks.md). No mmap:
        # long tails here. Setting WAL needs a moment's lock, waited for like any statement's.
        # A new connection's first look at the file can meet a lock too (another one
        # recovering the WAL), so these wait like any statement.
        cursor = dbapi_connection.cursor()

        def run(sql: str) -> list[Any]:
            found: list[Any] = []
            _when_unlocked(lambda: found.extend(cursor.execute(sql).fetchall()), timeout)
            return found

        run("PRAGMA synchronous=NORMAL")
        run("PRAGMA foreign_keys=ON")
        # `flask db upgrade` leaves the file in WAL for good; only an older file needs switching.
        if run("PRAGMA journal_mode")[0][0].lower() != "wal":
            mode = run("PRAGMA journal_mode=WAL")[0][0].lower()
            if mode != "wal":
                cursor.close()
                raise NotWal(mode)
        cursor.close()

    return tune


# The first waits are short, as SQLite's own busy handler's are: most locks are held for a
# commit's few milliseconds.
_BUSY_SLEEPS = (0.001, 0.002, 0.005, 0.01, 0.015, 0.02, 0.025)


def _when_unlocked(run: Callable[[], object], wait: float) -> None:
    """Run ``run``, waiting up to ``wait`` seconds for a locked database with ``time.sleep``:
    under gevent that lets the worker's other requests (streams, health checks, webhooks) run
    meanwhile, where SQLite's own busy wait would freeze them all."""
    deadline = None
    for attempt in itertools.count():
        try:
            run()
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) and "busy" not in str(error):
                raise
            now = time.monotonic()
            deadline = now + wait if deadline is None else deadline
            if now >= deadline:
                raise
            time.sleep(min(_BUSY_SLEEPS[min(attempt, len(_BUSY_SLEEPS) - 1)], deadline - now))


def _sqlite_execute(name: str, timeout: float) -> Any:
    """Run statements through ``_when_unlocked``, for as long as the transaction's bound
    (``bound``) or else the engine's timeout."""

    def execute(cursor: Any, statement: str, parameters: Any = None, context: Any = None) -> bool:
        run = getattr(cursor, name.removeprefix("do_"))
        arguments = (statement,) if name == "do_execute_no_params" else (statement, parameters)
        options = context.execution_options if context is not None else {}
        _when_unlocked(lambda: run(*arguments), float(options.get("busy_wait", timeout)))
        return True

    return execute


# Takes SQLite's write lock and changes nothing: any UPDATE begins a write transaction.
WRITE_LOCK = text("UPDATE calls SET id = id WHERE 0")


def lock_for_writing(session: Session) -> None:
    """On SQLite, take the write lock before reading what this transaction will change, so
    that it reads the latest committed rows and no other writer commits in between (WAL gives
    a transaction the snapshot of its first statement). PostgreSQL locks rows instead
    (``SELECT ... FOR UPDATE``)."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(WRITE_LOCK)


def bound(session: Session | Connection, seconds: float) -> None:
    """Make every statement of the current transaction of ``session`` (a Session or a
    Connection) give up after ``seconds``.

    PostgreSQL bounds it per transaction with its own timeouts; SQLite's lock waits take the
    same bound (``_sqlite_execute``). A stuck lock or a slow server becomes a quick error on the
    webhook path.
    """
    connection = session.connection() if isinstance(session, Session) else session
    if connection.dialect.name == "sqlite":
        connection.execution_options(busy_wait=seconds)
    elif connection.dialect.name == "postgresql":
        # One round trip for both: set_config(..., true) is SET LOCAL.
        connection.execute(_BOUND, {"millis": str(max(1, int(seconds * 1000)))})


_BOUND = text(
    "SELECT set_config('statement_timeout', :millis, true), "
    "set_config('lock_timeout', :millis, true)"
)


# The least each pool setting may be: below it SQLAlchemy reads "no limit" (0 or -1).
_AT_LEAST = {
    "CALLERID_DB_POOL_SIZE": 1,
    "CALLERID_DB_MAX_OVERFLOW": 0,
    "CALLERID_DB_QUEUE": 0,
    "CALLERID_INSTANCES": 1,
}


class BadSetting(ValueError):
    """A setting the app cannot start with; the message names it."""


def init_app(app: Flask) -> None:
    """Create the app's engine and session factory; one session per request, closed at teardown."""
    for name, least in _AT_LEAST.items():
        if app.config.get(name, least) < least:
            raise BadSetting(f"{name} must be at least {least}, not {app.config[name]}")
    engine = make_engine(
        app.config["DATABASE_URL"],
        app.config["CALLERID_DB_TIMEOUT"],
        app.config.get("CALLERID_DB_POOL_SIZE", 10),
        app.config.get("CALLERID_DB_MAX_OVERFLOW", 10),
        app.config.get("CALLERID_DB_QUEUE", 100),
    )
    app.extensions["callerid.engine"] = engine
    # expire_on_commit=False: reading a row after commit would otherwise cost a second SELECT.
    app.extensions["callerid.sessions"] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def fit_to_server(app: Flask, workers: int) -> Fit | None:
    """Trim this app's pools so that every worker of every instance (``CALLERID_INSTANCES``)
    together stays below PostgreSQL's max_connections, and warn of a server that may lose
    acknowledged commits; run once before the workers start. Raises ``PoolDoesNotFit`` when the
    pools cannot fit, ``NotWal`` for a SQLite file that cannot be in WAL mode."""
    engine = engine_for(app)
    if engine.dialect.name == "sqlite":
        try:
            with engine.connect():
                pass  # raises NotWal for a file SQLite cannot keep in WAL mode
        finally:
            engine.dispose()
    warn_if_commits_may_be_lost(engine)
    return fit_engine(engine, workers * app.config.get("CALLERID_INSTANCES", 1))


def warn_if_commits_may_be_lost(engine: Engine) -> None:
    """Say so when PostgreSQL acknowledges commits before they are on disk: a crash of the
    server would then take webhooks with it that Twilio was told are stored."""
    if engine.dialect.name != "postgresql":
        return
    try:
        with engine.connect() as connection:
            setting = connection.execute(text("SHOW synchronous_commit")).scalar()
    except SQLAlchemyError:
        return  # fit_engine says the server could not be asked
    finally:
        engine.dispose()  # no connection of the master's may be inherited by the workers
    if setting == "off":
        log.warning(
            "PostgreSQL's synchronous_commit is off: a crash of the database server can lose "
            "calls and callbacks already acknowledged to Twilio; set it to on (the default)"
        )


def engine_for(app: Flask) -> Engine:
    return app.extensions["callerid.engine"]


def new_session(app: Flask) -> Session:
    """A session the caller owns and closes (CLI commands, background work)."""
    return app.extensions["callerid.sessions"]()


def session() -> Session:
    """The current request's session, created on first use."""
    if "db_session" not in g:
        from flask import current_app

        g.db_session = new_session(current_app)
    return g.db_session


def release_session() -> None:
    """Close the current request's session now, returning its connection to the pool (a
    long-lived response such as /events must not hold one); a later ``session()`` opens anew."""
    db_session = g.pop("db_session", None)
    if db_session is None:
        return
    try:
        db_session.close()
    except SQLAlchemyError as error:
        # Its connection died (the server restarted, or cut it): the rollback in close() cannot
        # reach it. SQLAlchemy has invalidated it already, so the pool will not hand it out
        # again; the response must not become a 500 for that.
        log.info("a request's database connection was gone at its end: %s", error.__class__)


def _close_session(_exc: BaseException | None) -> None:
    release_session()
