"""What wakes a process's follower when another process commits an event: LISTEN/NOTIFY on
PostgreSQL, inotify on SQLite's write-ahead log; without either, the follower polls."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine

from . import listener, walwatch
from .waker import Waker

WakerFactory = Callable[[Callable[[], None]], Waker]


def for_engine(engine: Engine) -> WakerFactory | None:
    """How to build a waker for ``engine``'s database (given what to call on news), or None."""
    connect = listener.connector_for(engine)
    if connect is not None:
        return lambda on_news: listener.Listener(connect, on_news)
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        path = Path(database).resolve()
        return lambda on_news: walwatch.WalWatcher(path, on_news)
    return None
