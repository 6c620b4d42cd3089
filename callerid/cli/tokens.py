"""flask tokens create --kind KIND NAME: bearer tokens for scripts, screens and monitoring."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from .. import db
from ..auth import tokens
from ..auth.users import find

tokens_group = AppGroup("tokens", help="API tokens: for scripts (user) or for /metrics (metrics).")


@tokens_group.command("create")
@click.argument("name")
@click.option(
    "--kind",
    type=click.Choice(tokens.KINDS),
    default="user",
    show_default=True,
    help="user: acts as NAME on the API and /events; metrics: reads /metrics only.",
)
def create(name: str, kind: str) -> None:
    """Print a new token owned by the user NAME (last line of output). It stops working when
    it is revoked or NAME is deactivated. Keep it secret: it is shown once."""
    issue_and_print(name, kind)


def issue_and_print(name: str, kind: str) -> None:
    """Issue a ``kind`` token for the user ``name``: what it is on stderr, the secret alone on
    the last line of stdout, so that scripts can take it with ``tail -n 1``."""
    with db.new_session(current_app) as session:
        user = find(session, name)
        if user is None:
            raise click.ClickException(f"no user named {name!r}; add one with 'users create'")
        value = tokens.issue(session, user, kind=kind)
        session.commit()
    what = "API token" if kind == "user" else f"{kind} token"
    click.echo(f"{what} for {name} (send as 'Authorization: Bearer <token>'):", err=True)
    click.echo(value)
