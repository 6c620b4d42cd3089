"""flask db upgrade: create or migrate the schema with Alembic."""

from __future__ import annotations

from pathlib import Path

import click
from alembic import command
from alembic.config import Config
from flask import current_app
from flask.cli import AppGroup

from .. import database_url

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

db_group = AppGroup("db", help="Create or migrate the database schema.")


def alembic_config(url: str) -> Config:
    """An Alembic configuration for the database at ``url``, with our migrations."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` to ``revision``; a SQLite file is left in WAL mode,
    readable by its owner alone."""
    url = database_url.normalise(url)
    database_url.make_private(url)
    command.upgrade(alembic_config(url), revision)
    if url.startswith("sqlite"):
        _switch_to_wal(url)


def _switch_to_wal(url: str) -> None:
    # WAL is a property of the file, and switching to it needs the file to itself: done here,
    # before any server starts, the first screens and calls of a new install do not race to
    # switch it (readers then found the file locked and answered 503).
    from ..db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect():
            pass  # make_engine's connect hook sets journal_mode=WAL
    finally:
        engine.dispose()


@db_group.command("upgrade")
@click.argument("revision", default="head")
def upgrade_command(revision: str) -> None:
    """Create the schema, or bring it up to date (REVISION defaults to the newest)."""
    from ..db import NotWal

    url = current_app.config["DATABASE_URL"]
    try:
        upgrade(url, revision)
    except NotWal as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Database is up to date ({_safe(url)}).")


@db_group.command("revision")
@click.option("-m", "--message", required=True, help="What the migration changes.")
def revision_command(message: str) -> None:
    """For developers: write a new migration from the difference between models and database."""
    command.revision(alembic_config(current_app.config["DATABASE_URL"]), message, autogenerate=True)


def _safe(url: str) -> str:
    # Never print a password to a terminal or a CI log.
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
