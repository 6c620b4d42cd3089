"""flask customers import | export: the customer list in and out of CSV files."""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO

import click
import phonenumbers
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

from .. import audit, db
from ..directory.csvfile import (
    EXAMPLE_HEADER,
    BadCsv,
    ImportResult,
    export_customers,
    import_customers,
)

# Files with more lines than this get a progress bar on stderr.
LARGE_FILE_LINES = 5000
SHOWN_NOTES = 10
ACTOR = "cli"  # who the audit trail says did it: whoever can run commands on the server

customers_group = AppGroup("customers", help="Import and export the customer list as CSV.")


def _region(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is not None and value.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise click.BadParameter(f"{value!r} is not a region code; use one such as US or GB")
    return value.upper() if value else None


@customers_group.command(
    "import",
    epilog=f"""\b
Example header (any order, any case; extra columns are ignored):
  {EXAMPLE_HEADER}
  First Name;Last Name;Mobile;Home;Notes   (semicolons work too)
\b
Examples:
  flask --app wsgi customers import guests.csv --dry-run
  flask --app wsgi customers import guests.csv --region GB --skip-bad""",
)
@click.argument("file", type=click.File("rb"), metavar="FILE.csv")
@click.option(
    "--skip-bad",
    is_flag=True,
    help="Import the good rows even if some are bad (the bad ones are still listed).",
)
@click.option(
    "--region",
    callback=_region,
    help="Country for numbers written without +code, e.g. GB. "
    "[default: CALLERID_DEFAULT_REGION, US if unset]",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Check the file and say what it would do; write nothing. Exits 1 on bad rows too.",
)
def import_command(file: IO[bytes], skip_bad: bool, region: str | None, dry_run: bool) -> None:
    """Add customers from a CSV file with a header row (FILE.csv, or - for stdin).

    It needs a name column (or first and last name) and at least one number column (phone,
    mobile, home, work, ...); it also reads email, notes, preferences, alerts, pronunciation, vip,
    tags, salutation, preferred name, birthday, anniversary and do not greet. A number that is
    already known updates its customer (empty fields are filled, notes added) instead of making
    a second one; a different person on a known number (a household) becomes a second customer
    sharing it.

    The import is all or nothing: if any row is bad, every bad row is listed with its line
    number, nothing is written and the exit status is 1, unless --skip-bad is given.
    """
    data = file.read()
    region = region or current_app.config["CALLERID_DEFAULT_REGION"]
    with db.new_session(current_app) as session, _progress(data) as progress:
        try:
            result = import_customers(
                session, data, region, skip_bad=skip_bad, dry_run=dry_run, progress=progress
            )
            if result.written:
                detail = f"{result.created} created, {result.updated} updated"
                audit.record(session, "import", "customers", actor=ACTOR, detail=detail)
                session.commit()
        except BadCsv as exc:
            raise click.ClickException(f"{file.name}: {exc}") from exc
        except SQLAlchemyError as exc:
            # e.g. SQLite busy beyond its timeout, or a customer added meanwhile took an id.
            reason = getattr(exc, "orig", None) or exc
            raise click.ClickException(
                f"nothing was imported: database error ({reason}). Run the import again."
            ) from exc
    _report(result, file.name, dry_run)
    if result.bad and not skip_bad:
        click.get_current_context().exit(1)


@contextmanager
def _progress(data: bytes) -> Iterator[Callable[[float], None]]:
    """A progress bar on stderr for large files (drawn by click only on a terminal); for small
    files a callback that does nothing."""
    if data.count(b"\n") < LARGE_FILE_LINES:
        yield lambda _fraction: None
        return
    with click.progressbar(length=1000, label="Importing", file=sys.stderr) as bar:
        yield lambda fraction: bar.update(int(fraction * 1000) - bar.pos)


def _report(result: ImportResult, name: str, dry_run: bool) -> None:
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    for row in result.bad:
        click.echo(str(row), err=True)
    _echo_some(
        result.shared, _plural(len(result.shared), "number") + " now shared by different people"
    )
    counts = [
        f"{result.created:,} created",
        f"{result.updated:,} updated",
        f"{result.unchanged:,} unchanged",
    ]
    if result.numbers_added:
        counts.append(_plural(result.numbers_added, "number") + " added to existing customers")
    if result.merged:
        counts.append(_plural(result.merged, "duplicate row") + " merged")
    summary = ", ".join(counts)
    bad = _plural(len(result.bad), "bad row")
    if dry_run:
        click.echo(
            f"Dry run, nothing written: {_plural(result.good_rows, 'good row')} from {name} "
            f"would give {summary}."
        )
        if result.bad:
            click.echo(f"{bad} (listed above).")
    elif result.written:
        skipped = f"; {bad} skipped (listed above)" if result.bad else ""
        click.echo(f"Imported {_plural(result.good_rows, 'row')} from {name}: {summary}{skipped}.")
    else:
        click.echo(
            f"Nothing was imported: {bad} (listed above). Fix them and run again, "
            f"or use --skip-bad to import the other {_plural(result.good_rows, 'row')}.",
            err=True,
        )


def _echo_some(notes: list[str], title: str) -> None:
    if not notes:
        return
    click.echo(f"{title}:", err=True)
    for note in notes[:SHOWN_NOTES]:
        click.echo(f"  {note}", err=True)
    if len(notes) > SHOWN_NOTES:
        click.echo(f"  ... and {len(notes) - SHOWN_NOTES:,} more", err=True)


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


@customers_group.command("export")
@click.argument("file", default="-", type=click.Path(dir_okay=False, allow_dash=True))
def export_command(file: str) -> None:
    """Write every customer as CSV to FILE (stdout when FILE is - or not given).

    Columns: id, name, salutation, preferred_name, phone (numbers joined with "; "), email,
    notes, preferences, tags, vip, do_not_greet, birthday, anniversary, created_at, alerts,
    pronunciation. The file reads
    back with 'customers import'. A file gets a UTF-8 byte-order mark so that Excel shows
    accents correctly; stdout gets plain UTF-8.

    \b
    Example:
      flask --app wsgi customers export customers.csv
    """
    with db.new_session(current_app) as session:
        where = "to stdout" if file == "-" else "to a file"
        audit.record(session, audit.EXPORT, "customers", actor=ACTOR, detail=where)
        session.commit()
        if file == "-":
            count = _write_csv(sys.stdout, export_customers(session))
            return
        with open(file, "w", encoding="utf-8-sig", newline="") as out:
            count = _write_csv(out, export_customers(session))
    click.echo(f"Exported {_plural(count, 'customer')} to {file}.")


def _write_csv(out: IO[str], rows: Iterator[list[str]]) -> int:
    """Write the header and rows; return how many rows followed the header."""
    writer = csv.writer(out)
    count = -1
    for row in rows:
        writer.writerow(row)
        count += 1
    return count
