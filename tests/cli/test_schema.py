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
