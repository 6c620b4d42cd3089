"""flask calls anonymise: keep call history as anonymous statistics after a number of days."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from .. import db
from ..db import iso, utcnow
from ..history import retention

calls_group = AppGroup("calls", help="The call log: retention of old calls.")


@calls_group.command("anonymise", short_help="Anonymise calls older than DAYS days (cron).")
@click.option(
    "--older-than",
    "days",
    type=click.IntRange(min=1),
    required=True,
    metavar="DAYS",
    help="Anonymise calls received more than DAYS days ago.",
)
@click.option("--dry-run", is_flag=True, help="Only count what would change.")
def anonymise(days: int, dry_run: bool) -> None:
    """Anonymise calls older than DAYS days: their caller's number and customer link are removed
    and the notes on them deleted, while status, times and duration stay for insights. Events
    (cards shown on screens) older than that are deleted too. Records an audit entry; safe to run
    daily from cron, e.g. `flask --app wsgi calls anonymise --older-than 365`."""
    cutoff = utcnow() - timedelta(days=days)
    with db.new_session(current_app) as session:
        done = retention.anonymise_older_than(session, cutoff, actor="cli", dry_run=dry_run)
        if not dry_run:
            session.commit()
    verb = "Would anonymise" if dry_run else "Anonymised"
    deleted = "would delete" if dry_run else "deleted"
    click.echo(
        f"{verb} {done.calls} calls received before {iso(cutoff)}; "
        f"{deleted} {done.notes} notes and {done.events} events."
    )
