"""flask spool status | replay: the webhooks waiting in this instance's spool for the database."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from .. import errors
from ..telephony import recorder

spool_group = AppGroup(
    "spool", help="Webhooks kept on disk while the database could not take them."
)


@spool_group.command("status")
def status_command() -> None:
    """How many webhooks wait, and where."""
    spool = recorder.spool_of(current_app)
    waiting = spool.depth()
    where = spool.folder
    if not waiting:
        click.echo(f"Nothing waits in the spool ({where}).")
        return
    click.echo(f"{waiting} webhook(s) wait in the spool ({where}); a running server applies them")
    click.echo("as soon as the database takes writes, or run 'flask --app wsgi spool replay'.")


@spool_group.command("replay")
def replay_command() -> None:
    """Apply the waiting webhooks now, in order (a running server does this by itself)."""
    applied, stopped_by = recorder.replay(current_app)
    waiting = recorder.spool_of(current_app).depth()
    click.echo(f"Applied {applied} webhook(s); {waiting} still wait.")
    if stopped_by is not None:
        raise click.ClickException(f"the database did not take them: {errors.summary(stopped_by)}")
    if waiting and not applied:
        raise click.ClickException("another process is applying the spool right now; try later.")
