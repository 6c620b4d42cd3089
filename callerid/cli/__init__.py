"""Command-line tools, one group per noun: ``flask --app wsgi <group> <command>``."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

import click
from flask import Flask
from sqlalchemy.exc import OperationalError, ProgrammingError

# How SQLite and PostgreSQL say a table is missing: the database was never upgraded.
_NO_TABLE = re.compile(r"no such table|relation \"[^\"]+\" does not exist")


def register(app: Flask) -> None:
    from .customers import customers_group
    from .database import db_group
    from .demo import demo_command
    from .lines import lines_group
    from .retention import calls_group
    from .simulate import simulate_group
    from .spool import spool_group
    from .tokens import tokens_group
    from .users import users_group

    for group in (
        users_group,
        tokens_group,
        simulate_group,
        customers_group,
        lines_group,
        calls_group,
        spool_group,
        demo_command,
    ):
        _explain_missing_schema(group)
        app.cli.add_command(group)
    app.cli.add_command(db_group)


def _explain_missing_schema(command: click.Command) -> None:
    """Turn "no such table" from a database nobody upgraded into the one step that fixes it."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _explain_missing_schema(sub)
    # The commands are module-level objects and every create_app registers them again: wrap
    # each once, or a process making many apps (the tests) nests wrappers past Python's limit.
    if command.callback is not None and not getattr(command.callback, "schema_checked", False):
        command.callback = _schema_checked(command.callback)


def _schema_checked(callback: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except (OperationalError, ProgrammingError) as exc:
            if not _NO_TABLE.search(str(exc.orig)):
                raise
            raise click.ClickException(
                "the database has no tables yet: run 'flask --app wsgi db upgrade' first."
            ) from exc

    # A marker, so a command is wrapped once; functions take attributes at run time only.
    run.schema_checked = True  # type: ignore[attr-defined]
    return run
