"""flask lines list | label: the business's numbers, and the names the desk sees on cards."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from .. import db, numbers
from ..directory import lines

lines_group = AppGroup("lines", help="The numbers callers dial, and their labels on the cards.")


@lines_group.command("list")
def list_command() -> None:
    """Show every line that has rung or been labelled, with its calls."""
    region = current_app.config["CALLERID_DEFAULT_REGION"]
    with db.new_session(current_app) as session:
        found = lines.with_counts(session)
    if not found:
        click.echo("No line yet: a line appears with its first call, or label one ahead.")
        return
    width = max(len(_shown(line.number, region)) for line, _ in found)
    for line, calls in found:
        label = line.label or "(no label: cards show the number)"
        click.echo(f"{_shown(line.number, region):<{width}}  {calls:>8} calls  {label}")


@lines_group.command("label")
@click.argument("number")
@click.argument("label")
def label_command(number: str, label: str) -> None:
    """Name the line NUMBER (any format, or a client:/sip: address) LABEL, e.g. "Reservations".
    An empty LABEL ("") removes it. A number that has not rung yet is added."""
    region = current_app.config["CALLERID_DEFAULT_REGION"]
    with db.new_session(current_app) as session:
        try:
            line, created = lines.label(session, number, label, region)
        except numbers.InvalidNumber as exc:
            raise click.BadParameter(exc.reason, param_hint="NUMBER") from exc
        except lines.InvalidLabel as exc:
            raise click.BadParameter(str(exc), param_hint="LABEL") from exc
        session.commit()
        shown, text = _shown(line.number, region), line.label
    added = " (added: it has not rung yet)" if created else ""
    if text:
        click.echo(f"Line {shown} is now labelled {text!r}{added}.")
    else:
        click.echo(f"Line {shown} has no label now; cards show its number{added}.")


def _shown(number: str, region: str) -> str:
    return numbers.display(number, region) if number.startswith("+") else number
