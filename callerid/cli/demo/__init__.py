"""flask demo: a restaurant group's customers, lines, staff and two months of calls to explore."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ... import clock, db
from ...auth.users import create_user, find
from ...directory.cards import occasion
from ...models import Call, Customer, Event, Line, Note, PhoneNumber, User
from ..simulate import DEFAULT_URL
from . import callhistory, people

SEED = 20261120  # same seed, same demo: screenshots and docs stay true
PASSWORD = "callerid-demo"
USERS = (("desk", "staff"), ("manager", "manager"))
LINES = (("+12025550143", "Downtown"), ("+12025550144", "Reservations"))
CUSTOMERS = 60


@click.command("demo", short_help="Fill the database with demo customers and their calls.")
@with_appcontext
@click.option(
    "--reset",
    is_flag=True,
    help="First delete all customers, calls, notes, events and lines (users are kept).",
)
@click.option(
    "--url",
    default=None,
    help="Where the server will listen, for the 'simulate call' command printed at the end. "
    f"[default: CALLERID_PUBLIC_URL, else {DEFAULT_URL}]",
)
def demo_command(reset: bool, url: str | None) -> None:
    """Fill the database with a restaurant's demo customers, lines, users and two months of
    calls: the same data every time, dated relative to today. Does nothing if there are
    customers already, unless --reset is given.

    \b
    Example:
      flask --app wsgi demo --reset
    """
    with db.new_session(current_app) as session:
        existing = session.scalar(select(func.count()).select_from(Customer)) or 0
        if existing and not reset:
            click.echo(
                f"The database already has {existing:,} customers: demo data not added. "
                "Use --reset to replace them (and all calls) with the demo."
            )
            return
        if reset:
            clear(session)
        users = [_ensure_user(session, name, role) for name, role in USERS]
        summary = fill(
            session,
            now=db.utcnow(),
            today=clock.business_today(current_app.config),
            note_authors=[user for user, _ in users],
        )
        session.commit()
    _print_summary(summary, users, url)


def clear(session: Session) -> None:
    """Delete customers, their numbers, calls, notes, events and lines; users stay."""
    for model in (Note, Call, Event, PhoneNumber, Customer, Line):
        session.execute(delete(model))


@dataclass(frozen=True, slots=True)
class Summary:
    customers: int
    calls: int
    star: Customer  # the richest card, for a first simulated call
    star_occasion: str | None
    lines: list[Line]


def fill(
    session: Session, *, now: datetime, today: date, note_authors: Sequence[User] = ()
) -> Summary:
    """Add the demo's lines, customers, calls and call notes (no events: history only). The
    content is fixed by ``SEED``; dates are relative to ``now`` so the history looks recent,
    and occasions to ``today``, the business's date, which the cards count from too."""
    rng = random.Random(SEED)
    lines = [_line(session, number, label) for number, label in LINES]
    pool = people.number_pool(rng, [number for number, _ in LINES])
    customers = people.regulars(today) + people.others(rng, pool, CUSTOMERS - len(people.REGULARS))
    unknown = [pool.pop() for _ in range(30)]
    session.add_all([*lines, *customers])
    session.flush()
    calls = callhistory.calls(rng, now, customers, unknown, lines)
    callhistory.date_customers(customers, calls, now)
    session.add_all(calls)
    session.flush()
    session.add_all(callhistory.notes(rng, calls, customers[0], note_authors))
    untidy = people.untidy(customers)
    session.add_all(untidy)
    session.flush()
    star = max(customers, key=lambda c: _richness(c, calls, today))
    return Summary(len(customers) + len(untidy), len(calls), star, occasion(star, today), lines)


def _line(session: Session, number: str, label: str) -> Line:
    # A real call may have created the line already, unlabelled.
    line = session.scalar(select(Line).where(Line.number == number)) or Line(number=number)
    line.label = line.label or label
    return line


def _richness(customer: Customer, calls: list[Call], today: date) -> tuple[int, int]:
    card = (
        3 * customer.is_vip
        + bool(customer.notes)
        + bool(customer.preferences)
        + bool(customer.alerts)
        + bool(customer.salutation or customer.preferred_name)
        + 2 * bool(occasion(customer, today))
        - 5 * customer.do_not_greet
    )
    return card, sum(1 for call in calls if call.customer is customer)


def _ensure_user(session: Session, name: str, role: str) -> tuple[User, bool]:
    """The demo's user ``name``, created with the demo password unless it exists (then kept)."""
    existing = find(session, name)
    if existing is not None:
        return existing, False
    return create_user(session, name, role, PASSWORD), True


def _print_summary(summary: Summary, users: list[tuple[User, bool]], url: str | None) -> None:
    lines = ", ".join(f"{line.label} {line.number}" for line in summary.lines)
    click.echo(
        f"Demo data: {summary.customers} customers, {summary.calls} calls over the last "
        f"{callhistory.DAYS} days, lines {lines}."
    )
    click.echo("Log in at /login as:")
    for user, created in users:
        login = f"{user.name} / {PASSWORD}" if created else f"{user.name} (password kept)"
        click.echo(f"  {login}  ({user.role})")
    star = summary.star
    number = star.numbers[0].number
    name = " ".join(filter(None, (star.salutation, star.name)))
    traits = ", ".join(filter(None, ("VIP" if star.is_vip else "", summary.star_occasion)))
    click.echo(f"The richest card: {name} ({traits}) on {number}.")
    if star.alerts:
        click.echo(f"  Alert: {star.alerts}")
    if star.preferences:
        click.echo(f"  {star.preferences}")
    click.echo("With the server running, ring the desk as them:")
    # simulate call posts to CALLERID_PUBLIC_URL, else port 8000: name any other server.
    default = current_app.config.get("CALLERID_PUBLIC_URL") or DEFAULT_URL
    target = f" --url {url}" if url and url.rstrip("/") != default.rstrip("/") else ""
    click.echo(f'  flask --app wsgi simulate call "{number}"{target}')
