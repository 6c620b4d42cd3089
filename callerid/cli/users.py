"""flask users create | token | phone: people who log in, API tokens for scripts, and the
phone each person's call-backs ring first."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from .. import db
from ..auth.users import (
    ROLES,
    BadPhone,
    InvalidUser,
    UserExists,
    WeakPassword,
    create_user,
    find,
    set_phone,
)
from .tokens import issue_and_print

users_group = AppGroup("users", help="Staff and manager accounts, and API tokens.")


@users_group.command("create")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(ROLES),
    default="staff",
    show_default=True,
    help="staff see the board; managers also see history, exports and users.",
)
@click.option("--password", help="Asked for (twice, hidden) when not given.")
def create(name: str, role: str, password: str | None) -> None:
    """Add a person who can log in."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with db.new_session(current_app) as session:
        try:
            create_user(session, name, role, password)
        except (InvalidUser, UserExists, WeakPassword) as exc:
            raise click.ClickException(str(exc)) from exc
        session.commit()
    click.echo(f"Created {role} {name!r}.")


@users_group.command("token")
@click.argument("name")
def token(name: str) -> None:
    """Print a new API token for NAME (last line of output). Keep it secret: it is shown once.
    The same as 'tokens create --kind user NAME'."""
    issue_and_print(name, "user")


@users_group.command("phone")
@click.argument("name")
@click.argument("phone", required=False)
def phone(name: str, phone: str | None) -> None:
    """Show or set the phone NAME's call-backs ring first: a number in any format, a sip: URI or
    a client: identity; "" clears it (the front desk, CALLERID_FORWARD_TO, is rung then)."""
    with db.new_session(current_app) as session:
        user = find(session, name)
        if user is None:
            raise click.ClickException(f"no user {name!r}")
        if phone is not None:
            region = current_app.config["CALLERID_DEFAULT_REGION"]
            try:
                set_phone(session, user, phone, region, by=None)
            except BadPhone as exc:
                raise click.ClickException(str(exc)) from exc
            session.commit()
        shown = user.phone or f"none: the front desk ({current_app.config['CALLERID_FORWARD_TO']})"
        click.echo(f"{user.name}'s call-backs ring {shown}")
