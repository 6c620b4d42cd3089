"""DATABASE_URL as operators write it: its SQLite file, when there is one, kept private."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)


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
