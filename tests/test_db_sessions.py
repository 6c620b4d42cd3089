"""Database connections: a request's session ends cleanly even when its connection died under
it, and SQLite runs only in WAL mode."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from callerid import db


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_request_whose_connection_died_still_ends_without_an_error(app):
    with app.test_request_context("/metrics"):
        session = db.session()
        pid = session.execute(text("SELECT pg_backend_pid()")).scalar()
        with db.engine_for(app).connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            other.commit()
        db.release_session()  # PostgreSQL restarted, or the connection was cut: no 500
    with db.engine_for(app).connect() as fresh:  # and the pool hands out a live one next
        assert fresh.execute(text("SELECT 1")).scalar() == 1


def test_a_sqlite_database_that_cannot_be_in_wal_mode_is_refused_with_words(tmp_path):
    # Dot-file locking is what SQLite falls back to where a filesystem has no POSIX locks (some
    # network mounts); it cannot share WAL's index, so SQLite stays in "delete" mode, where
    # readers and writers block each other.
    engine = db.make_engine(
        f"sqlite:///file:{tmp_path / 'shared.sqlite3'}?vfs=unix-dotfile&uri=true"
    )
    with pytest.raises(db.NotWal, match="'delete' journal mode instead of WAL"):
        engine.connect()
    engine.dispose()


def test_a_sqlite_file_is_put_in_wal_mode_on_first_connect(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()
