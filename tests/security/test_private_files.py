"""Finding 11: the SQLite database and its -wal/-shm files are readable by their owner alone."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from callerid import create_app, db

from ..conftest import settings_for


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    # The common default, under which SQLite alone would make the files 0644.
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_db_upgrade_creates_the_default_database_file_0600(tmp_path):
    instance = tmp_path / "instance"
    app = create_app(settings_for("", instance))
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert mode(instance / "callerid.sqlite3") == 0o600


def test_the_server_keeps_the_database_and_its_wal_and_shm_files_0600(tmp_path):
    path = tmp_path / "fresh.sqlite3"
    app = create_app(settings_for(f"sqlite:///{path}", tmp_path / "instance"))
    engine = db.engine_for(app)
    with engine.connect() as connection:  # open: SQLite removes -wal and -shm at the last close
        connection.execute(text("CREATE TABLE visits (at TEXT)"))
        connection.execute(text("INSERT INTO visits VALUES ('now')"))
        connection.commit()
        files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
        assert {file.name: mode(file) for file in files} == {file.name: 0o600 for file in files}
    engine.dispose()


def test_an_existing_database_others_can_read_is_named_in_a_warning(tmp_path, caplog):
    path = tmp_path / "old.sqlite3"
    path.touch(mode=0o644)
    with caplog.at_level(logging.WARNING, logger="callerid.database_url"):
        engine = db.make_engine(f"sqlite:///{path}")
    engine.dispose()
    assert f"{path} can be read by other local users" in caplog.text
    assert mode(path) == 0o644  # an operator's choice is theirs
