"""A command run before `db upgrade` says which step is missing, not a raw SQL error."""

from __future__ import annotations

import pytest

from callerid import create_app, db

from ..conftest import settings_for


@pytest.mark.parametrize(
    "args",
    [["users", "create", "anna", "--password", "long-enough"], ["lines", "list"]],
    ids=lambda a: " ".join(a[:2]),
)
def test_commands_on_an_empty_database_say_to_upgrade_it(tmp_path, args):
    app = create_app(settings_for(f"sqlite:///{tmp_path / 'empty.sqlite3'}", tmp_path / "i"))
    result = app.test_cli_runner().invoke(args=args)
    db.engine_for(app).dispose()
    assert result.exit_code == 1
    assert result.output == (
        "Error: the database has no tables yet: run 'flask --app wsgi db upgrade' first.\n"
    )


def test_upgrading_a_file_sqlite_cannot_keep_in_wal_mode_stops_with_one_line(tmp_path):
    url = f"sqlite:///file:{tmp_path / 'on-a-share.sqlite3'}?vfs=unix-dotfile&uri=true"
    app = create_app(settings_for(url, tmp_path / "i"))
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    db.engine_for(app).dispose()
    assert result.exit_code == 1
    assert result.output.startswith("Error: SQLite kept the database in 'delete' journal mode")
    assert result.output.count("\n") == 1
