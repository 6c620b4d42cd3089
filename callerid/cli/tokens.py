"""flask tokens create --kind KIND NAME: bearer tokens for scripts, screens and monitoring."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from .. import db
from ..auth import tokens
from ..auth.users import find

tokens_group = AppGroup(
    "tokens", help="API tokens: for scripts (user), phone systems (phone) or /metrics (metrics)."
)


@tokens_group.command("create")
@click.argument("name")
@click.option(
    "--kind",
    type=click.Choice(tokens.KINDS),
    default="user",
    show_default=True,
    help="user: acts as NAME on the API and /events; phone: a phone system posts call events "
    "and looks callers up; metrics: reads /metrics only.",
)
@click.option(
    "--source",
    default=tokens.DEFAULT_SOURCE,
    show_default=True,
    help="phone tokens: the phone system it speaks for; tokens with one name are one system.",
)
def create(name: str, kind: str, source: str) -> None:
    """Print a new token owned by the user NAME (last line of output). It stops working when
    it is revoked or NAME is deactivated. Keep it secret: it is shown once."""
    issue_and_print(name, kind, source)


def issue_and_print(name: str, kind: str, source: str = tokens.DEFAULT_SOURCE) -> None:
    """Issue a ``kind`` token for the user ``name``: what it is on stderr, the secret alone on
    the last line of stdout, so that scripts can take it with ``tail -n 1``."""
    with db.new_session(current_app) as session:
        user = find(session, name)
        if user is None:
            raise click.ClickException(f"no user named {name!r}; add one with 'users create'")
        try:
            value = tokens.issue(session, user, kind=kind, source=source)
        except tokens.BadSource as error:
            raise click.ClickException(str(error)) from error
        session.commit()
    what = "API token" if kind == "user" else f"{kind} token"
    if kind == "phone":
        what += f" of the phone system {source!r}"
    click.echo(f"{what} for {name} (send as 'Authorization: Bearer <token>'):", err=True)
    click.echo(value)
