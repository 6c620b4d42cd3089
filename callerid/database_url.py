"""DATABASE_URL as operators write it: read the way they mean it, refused in one line when it
cannot work, and its SQLite file, when there is one, kept private."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

log = logging.getLogger(__name__)
# What managed PostgreSQL services hand out (Heroku, Render, Supabase, RDS docs) names no driver,
# and SQLAlchemy reads it as psycopg2, which we do not ship: psycopg 3 is the driver we install.
_PSYCOPG_3 = "postgresql+psycopg"
_DRIVERLESS = {"postgres", "postgresql"}


class UnusableURL(SystemExit):
    """DATABASE_URL names a database callerid cannot use. A SystemExit whose message is one
    line, so that gunicorn and the flask command stop with that line and no traceback."""


def normalise(raw: str) -> str:
    """``raw`` with ``postgres://`` and ``postgresql://`` read as psycopg 3; raises
    ``UnusableURL`` (one line naming DATABASE_URL, never the password) when it is not a URL,
    names an unknown database, or needs a driver that is not installed."""
    try:
        url = make_url(raw)
    except ArgumentError:
        raise UnusableURL(
            "DATABASE_URL is not a database URL: write it as "
            "postgresql://user:password@host/name or sqlite:////path/to/file.sqlite3"
        ) from None
    if url.drivername in _DRIVERLESS:
        url = url.set(drivername=_PSYCOPG_3)
    _check_driver(url)
    return url.render_as_string(hide_password=False)


def _check_driver(url: URL) -> None:
    shown = url.render_as_string(hide_password=True)
    try:
        dialect = url.get_dialect()
    except NoSuchModuleError:
        raise UnusableURL(
            f"DATABASE_URL {shown}: callerid knows no database {url.drivername!r}; "
            "use postgresql:// or sqlite://"
        ) from None
    try:
        dialect.import_dbapi()
    except ImportError as error:
        raise UnusableURL(
            f"DATABASE_URL {shown}: its driver is not installed ({error}); "
            "callerid ships psycopg 3 for postgresql:// and sqlite needs none"
        ) from None


def sqlite_file(url: str) -> Path | None:
    """The file a ``sqlite:`` URL names, or None for another engine or an in-memory database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    if parsed.database.startswith("file:"):
        return None  # an SQLite URI: its own rules (mode=memory and friends), left alone
    return Path(parsed.database)


def make_private(url: str) -> None:
    """Create the SQLite file of ``url`` readable by its owner alone (0600) before SQLite does
    (SQLite would create it 0644 under the usual umask). Its ``-wal`` and ``-shm`` files get the
    database file's mode from SQLite itself. An existing file keeps the mode it has, since an
    operator may have chosen it, but a warning names one that others can read."""
    path = sqlite_file(url)
    if path is None:
        return
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            log.warning("%s can be read by other local users: chmod 600 it", path)
        return
    except FileNotFoundError:
        return  # no such folder: SQLite's own error says so at the first connection
    os.close(descriptor)
