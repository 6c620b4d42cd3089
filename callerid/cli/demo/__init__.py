"""flask demo: a restaurant group's customers, lines, staff and two months of calls to explore."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ... import db, numbers
from ...auth.users import create_user, find
from ...directory.cards import occasion
from ...models import Call, Customer, Event, Line, Note, PhoneNumber, User
from ..simulate import DEFAULT_URL

SEED = 20261120  # same seed, same demo: screenshots and docs stay true
PASSWORD = "callerid-demo"
USERS = (("desk", "staff"), ("manager", "manager"))
LINES = (("+12025550143", "Downtown"), ("+12025550144", "Reservations"))
CUSTOMERS = 60
DAYS = 60
CALLS = 400
# The restaurant's clock (Washington, D.C. in winter); calls are stored in UTC.
LOCAL = timezone(timedelta(hours=-5))
STAFF = ("Maya", "Luis", "Ines", "Sam", "Ruth")

# Fictional numbers that phonenumbers accepts: 555-01xx in US area codes, Ofcom's drama range
# 020 7946 0xxx in London.
US_AREAS = (415, 312, 202, 646, 718, 617, 305, 213)

# The regulars a newcomer should meet; ``days`` puts an occasion that many days from today.
REGULARS: tuple[dict[str, Any], ...] = (
    {
        "name": "Eleanor Whitfield",
        "salutation": "Mrs.",
        "numbers": (("+14155550134", "mobile"),),
        "is_vip": True,
        "notes": "Hosts the book club dinner on the first Thursday of the month. "
        "Prefers a call back to waiting on hold.",
        "alerts": "Severe peanut allergy.",
        "preferences": "Table 7 by the window. Sparkling water, no ice.",
        "tags": "regular, book club",
        "birthday_in_days": 3,
        "birth_year": 1961,
        "calls": 14,
    },
    {
        "name": "Daniel Okafor",
        "salutation": "Mr.",
        "numbers": (("+13125550187", "home"), ("+13125550142", "mobile")),
        "notes": "Shares the home line with Grace.",
        "preferences": "Likes the chef's table when it is free.",
        "tags": "regular",
        "calls": 7,
    },
    {
        "name": "Grace Okafor",
        "salutation": "Dr.",
        "numbers": (("+13125550187", "home"),),
        "preferences": "Vegetarian.",
        "anniversary_in_days": 6,
        "anniversary_year": 2004,
        "calls": 5,
    },
    {
        "name": "Tomás Herrera",
        "preferred_name": "Tom",
        "pronunciation": "Herrera: eh-REH-rah",
        "numbers": (("+16465550111", "mobile"),),
        "preferences": "Orders the tasting menu; pairs wines.",
        "tags": "wine club",
        "birthday_in_days": 5,
        "birth_year": 1979,
        "calls": 9,
    },
    {
        "name": "Priya Raman",
        "salutation": "Ms.",
        "numbers": (("+12025550178", "mobile"),),
        "is_vip": True,
        "notes": "Books the private room for client dinners; invoice to her company.",
        "alerts": "Shellfish allergy.",
        "preferences": "Quiet corner, booth 3.",
        "tags": "corporate",
        "calls": 8,
    },
    {
        "name": "Marcus Bell",
        "numbers": (("+17185550167", "mobile"),),
        "notes": "Asked not to be greeted by name on the phone.",
        "do_not_greet": True,
        "calls": 3,
    },
    {
        "name": "Alistair Grant",
        "salutation": "Mr.",
        "numbers": (("+442079460958", "work"),),
        "is_vip": True,
        "notes": "Visits from London twice a year, usually in spring and December.",
        "preferences": "Gin and tonic on arrival. Dislikes coriander.",
        "tags": "international",
        "calls": 4,
    },
    {
        "name": "Charlotte Davies",
        "salutation": "Ms.",
        "numbers": (("+447912345678", "mobile"),),
        "preferences": "Gluten-free; bring the gluten-free bread basket.",
        "calls": 3,
    },
)

FIRST_NAMES = (
    "Aisha Amelia Ana Ben Carlos Chloe David Elena Farah Felix Hana Hugo Isabel Jack Jonah "
    "Julia Kai Kenji Laila Leo Lucia Mateo Mei Nadia Noah Olga Omar Paul Rosa Sara Theo Una "
    "Victor Wen Yusuf Zara"
).split()
SURNAMES = (
    "Abbott Baker Castillo Chen Dimitrov Ellis Fischer Gallagher Haddad Ito Jensen Kowalski "
    "Lindqvist Moreau Nakamura Novak Osei Park Quinn Rossi Santos Schmidt Tran Varga Walsh "
    "Yilmaz Zhou"
).split()
SALUTATIONS = ("", "", "", "Mr.", "Mrs.", "Ms.", "Dr.")
# How the desk would address each first name, so "Jack Walsh" is never "Ms. Walsh"; names used by
# anyone get no Mr./Mrs./Ms. at all.
FEMALE = set("Aisha Amelia Ana Chloe Elena Farah Hana Isabel Julia Laila Lucia Mei Nadia".split())
FEMALE |= set("Olga Rosa Sara Una Zara".split())
MALE = set("Ben Carlos David Felix Hugo Jack Jonah Kenji Leo Mateo Noah Omar Paul Theo".split())
MALE |= set("Victor Yusuf".split())
NICKNAMES = {"Isabel": "Izzy", "Jonah": "Joe", "Victor": "Vic", "Theo": "Teddy"}
PREFERENCES = (
    "Nut allergy.",
    "Dairy-free.",
    "Vegan; ask the kitchen about today's vegan special.",
    "Window table if possible.",
    "Needs step-free access; table near the entrance.",
    "Always orders the sea bass.",
    "Brings a dog; terrace table.",
    "High chair for a toddler.",
    "Prefers early sittings, before 6pm.",
    "Celiac: strictly gluten-free.",
)
NOTES = (
    "Regular on Friday evenings.",
    "Celebrated a promotion here last month.",
    "Likes to hear about new dishes before ordering.",
    "Often books for large groups; confirm numbers the day before.",
    "Left a very kind review in the autumn.",
    "Lives around the corner; walks in when we are full.",
)
TAGS = ("regular", "wine club", "corporate", "family", "newsletter", "large groups")
OUTCOMES = (("booking", 55), ("question", 30), ("complaint", 5), ("other", 10))
CALL_NOTES = {
    "booking": (
        "Booked a table for {n} on Friday at 7:30pm.",
        "Table for {n} on Saturday lunch; asked for the window.",
        "Moved Thursday's booking to 8pm, still {n} people.",
    ),
    "question": (
        "Asked whether the terrace is heated. It is.",
        "Wanted to know if we do takeaway on Sundays.",
    ),
    "complaint": ("Main course arrived cold last visit; offered dessert on the house next time.",),
    "other": ("Left a scarf on Tuesday; it is at the front desk.",),
}


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
        summary = fill(session, now=db.utcnow(), note_authors=[user for user, _ in users])
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


def fill(session: Session, *, now: datetime, note_authors: Sequence[User] = ()) -> Summary:
    """Add the demo's lines, customers, calls and call notes (no events: history only). The
    content is fixed by ``SEED``; dates are relative to ``now`` so the history looks recent."""
    rng = random.Random(SEED)
    today = now.date()  # the cards count days to an occasion in UTC too
    lines = [_line(session, number, label) for number, label in LINES]
    pool = _number_pool(rng)
    customers = _regulars(today) + _others(rng, pool, CUSTOMERS - len(REGULARS))
    unknown = [pool.pop() for _ in range(30)]
    session.add_all([*lines, *customers])
    session.flush()
    calls = _calls(rng, now, customers, unknown, lines)
    _customer_since(customers, calls, now)
    session.add_all(calls)
    session.flush()
    session.add_all(_call_notes(rng, calls, customers[0], note_authors))
    untidy = _untidy(customers)
    session.add_all(untidy)
    session.flush()
    star = max(customers, key=lambda c: _richness(c, calls, today))
    return Summary(len(customers) + len(untidy), len(calls), star, occasion(star, today), lines)


def _line(session: Session, number: str, label: str) -> Line:
    # A real call may have created the line already, unlabelled.
    line = session.scalar(select(Line).where(Line.number == number)) or Line(number=number)
    line.label = line.label or label
    return line


def _number_pool(rng: random.Random) -> list[str]:
    """Every fictional number the demo may use, shuffled, without the regulars' numbers."""
    taken = {number for regular in REGULARS for number, _ in regular["numbers"]}
    raw = [f"+1 {area} 555 01{n:02d}" for area in US_AREAS for n in range(100)]
    raw += [f"+44 20 7946 0{n:03d}" for n in range(0, 1000, 37)]
    pool = sorted({numbers.parse(text) for text in raw} - taken - {n for n, _ in LINES})
    rng.shuffle(pool)
    return pool


def _regulars(today: date) -> list[Customer]:
    customers = []
    for regular in REGULARS:
        fields = {k: v for k, v in regular.items() if k in _CUSTOMER_FIELDS}
        customer = Customer(**fields)
        if "birthday_in_days" in regular:
            customer.birthday = _days_ahead(
                today, regular["birthday_in_days"], regular["birth_year"]
            )
        if "anniversary_in_days" in regular:
            customer.anniversary = _days_ahead(
                today, regular["anniversary_in_days"], regular["anniversary_year"]
            )
        customer.numbers = [
            PhoneNumber(number=numbers.parse(number), label=label)
            for number, label in regular["numbers"]
        ]
        customers.append(customer)
    return customers


_CUSTOMER_FIELDS = (
    "name",
    "salutation",
    "preferred_name",
    "notes",
    "preferences",
    "alerts",
    "pronunciation",
    "tags",
    "is_vip",
    "do_not_greet",
)


def _days_ahead(today: date, days: int, year: int) -> date:
    upcoming = today + timedelta(days=days)
    if (upcoming.month, upcoming.day) == (2, 29):
        return date(year, 3, 1)
    return upcoming.replace(year=year)


def _others(rng: random.Random, pool: list[str], count: int) -> list[Customer]:
    names = rng.sample([(f, s) for f in FIRST_NAMES for s in SURNAMES], count)
    customers = []
    for first, surname in names:
        customer = Customer(
            name=f"{first} {surname}",
            salutation=_salutation(rng.choice(SALUTATIONS), first),
            preferred_name=NICKNAMES.get(first, "") if rng.random() < 0.7 else "",
            notes=rng.choice(NOTES) if rng.random() < 0.3 else "",
            preferences=rng.choice(PREFERENCES) if rng.random() < 0.35 else "",
            tags=", ".join(rng.sample(TAGS, rng.choice((0, 0, 1, 1, 2)))),
            is_vip=rng.random() < 0.08,
        )
        if rng.random() < 0.4:
            customer.birthday = date(
                rng.randint(1950, 2002), rng.randint(1, 12), rng.randint(1, 28)
            )
        labels = ["mobile"] + (["home"] if rng.random() < 0.25 else [])
        customer.numbers = [PhoneNumber(number=pool.pop(), label=label) for label in labels]
        customers.append(customer)
    return customers


def _salutation(drawn: str, first: str) -> str:
    """``drawn`` (a random title) made to fit ``first``: one draw per customer either way, so
    the rest of the demo stays the same."""
    if drawn in ("", "Dr."):
        return drawn
    if first in MALE:
        return "Mr."
    if first in FEMALE:
        return drawn if drawn in ("Mrs.", "Ms.") else "Ms."
    return ""


def _customer_since(customers: list[Customer], calls: list[Call], now: datetime) -> None:
    """Date each customer from before their first call (a regular of two months is not a
    customer "since today"); those who never called joined within the demo's months."""
    first: dict[int, datetime] = {}
    for call in calls:  # sorted by time
        if call.customer is not None:
            first.setdefault(id(call.customer), call.received_at)
    for index, customer in enumerate(customers):
        joined = first.get(id(customer), now - timedelta(days=DAYS // 2))
        customer.created_at = joined - timedelta(days=7 + index % 90)


def _calls(
    rng: random.Random,
    now: datetime,
    customers: list[Customer],
    unknown: list[str],
    lines: list[Line],
) -> list[Call]:
    """``CALLS`` calls over ``DAYS`` days: regulars call most, about one in ten is missed,
    some callers are unknown and a few withhold their number."""
    weights = [
        REGULARS[i]["calls"] if i < len(REGULARS) else rng.choice((1, 1, 2, 3))
        for i in range(len(customers))
    ]
    shared = _shared_numbers(customers)
    calls = []
    for _ in range(CALLS):
        kind = rng.random()
        if kind < 0.03:
            customer, number = None, None
        elif kind < 0.18:
            customer, number = None, rng.choice(unknown)
        else:
            customer = rng.choices(customers, weights)[0]
            number = rng.choice(customer.numbers).number
        calls.append(_call(rng, _moment(rng, now), customer, number, shared, lines))
    calls.sort(key=lambda call: call.received_at)
    return calls


def _shared_numbers(customers: list[Customer]) -> set[str]:
    seen: set[str] = set()
    shared: set[str] = set()
    for customer in customers:
        for phone in customer.numbers:
            (shared if phone.number in seen else seen).add(phone.number)
    return shared


def _moment(rng: random.Random, now: datetime) -> datetime:
    # Lunch and dinner bookings, local time; nothing in the future.
    hour = rng.choices(
        (10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21), (2, 5, 7, 5, 3, 2, 3, 6, 8, 6, 3, 1)
    )[0]
    local_day = now.astimezone(LOCAL).date() - timedelta(days=rng.randrange(DAYS))
    moment = datetime(
        local_day.year,
        local_day.month,
        local_day.day,
        hour,
        rng.randrange(60),
        rng.randrange(60),
        tzinfo=LOCAL,
    )
    while moment > now:
        moment -= timedelta(days=1)
    return moment.astimezone(UTC)


def _call(
    rng: random.Random,
    received_at: datetime,
    customer: Customer | None,
    number: str | None,
    shared: set[str],
    lines: list[Line],
) -> Call:
    status = rng.choices(("completed", "no-answer", "busy", "canceled"), (90, 7, 2, 1))[0]
    ring = rng.randint(4, 20)
    call = Call(
        call_sid=f"CA{rng.getrandbits(128):032x}",
        from_number=number,
        raw_from=number or "anonymous",
        caller_kind=numbers.NUMBER if number else numbers.WITHHELD,
        line=rng.choices(lines, (3, 2))[0],
        status=status,
        customer=customer,
        matched_by=("shared" if number in shared else "number") if customer else None,
        received_at=received_at,
    )
    if status == "completed":
        call.answered_at = received_at + timedelta(seconds=ring)
        call.answered_by = rng.choice(STAFF)
        call.outcome = rng.choices([o for o, _ in OUTCOMES], [w for _, w in OUTCOMES])[0]
        call.duration = rng.randint(30, 420)
        call.ended_at = call.answered_at + timedelta(seconds=call.duration)
    else:
        call.is_missed = True
        call.duration = ring if status != "busy" else 0
        call.ended_at = received_at + timedelta(seconds=call.duration)
    return call


def _call_notes(
    rng: random.Random, calls: list[Call], star: Customer, authors: Sequence[User]
) -> list[Note]:
    """A note on some answered calls, and always on the star's latest one."""
    answered = [c for c in calls if c.outcome and c.customer is not None]
    chosen = set(rng.sample(range(len(answered)), 14))
    star_calls = [i for i, c in enumerate(answered) if c.customer is star]
    if star_calls:
        chosen.add(star_calls[-1])
    notes = []
    for index in sorted(chosen):
        call = answered[index]
        body = rng.choice(CALL_NOTES[call.outcome]).format(n=rng.randint(2, 8))
        author = rng.choice(authors) if authors else None
        notes.append(Note(call_id=call.id, customer_id=call.customer_id, body=body, author=author))
    return notes


def _untidy(customers: list[Customer]) -> list[Customer]:
    """What years of imports leave behind, for the data-quality page: two customers entered
    twice under another spelling, and numbers stored as typed instead of in E.164. Added last,
    without calls, so the rest of the demo stays as it was."""
    by_name = {customer.name: customer for customer in customers}
    by_name["Marcus Bell"].numbers.append(PhoneNumber(number="(503) 555-0172", label="work"))
    tomas = Customer(name="tomas herrera", notes="From the old booking book.")
    tomas.numbers = [
        PhoneNumber(number="+16465550111", label="mobile"),
        PhoneNumber(number="555-0199", label="home"),
    ]
    charlotte = Customer(name="C. Davies")
    charlotte.numbers = [PhoneNumber(number="+447912345678")]
    return [tomas, charlotte]


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
        f"{DAYS} days, lines {lines}."
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
