"""flask calls anonymise: keep call history as anonymous statistics after a number of days."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from .. import db
from ..db import iso, utcnow
from ..history import epoch, retention, rollup

calls_group = AppGroup(
    "calls", help="The call log: retention of old calls, and the insights rollup."
)


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
    (cards shown on screens) and texts received older than that are deleted too, and call-backs
    forget whom they called. Records an audit entry; safe to run
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


@calls_group.command("rollup", short_help="Count past days for insights ahead of time.")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=400,
    show_default=True,
    help="How many past days to count (insights periods reach back at most 366 days).",
)
def rollup_command(days: int) -> None:
    """Count the calls of past days into the insights rollup now, so the first dashboard over a
    long period after an upgrade or an import does not do it while a manager waits. Days already
    counted are skipped; safe to repeat. Insights count days on demand without it."""
    now = utcnow()
    first, last = epoch.settled_days(now - timedelta(days=days), now, now)
    done = 0
    with db.new_session(current_app) as session:
        for start in range(first, last, rollup.FILL_DAYS):
            end = min(last, start + rollup.FILL_DAYS)
            done += rollup.fill(session, start, end)
            click.echo(f"Counted up to {epoch.day_start(end).date()}.", err=True)
    click.echo(f"Rolled up {done} days; {last - first - done} were already counted.")
