"""The demo's customers: the regulars a newcomer should meet, others drawn from tables of
names, and what years of imports leave behind for the data-quality page."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from ... import numbers
from ...models import Customer, PhoneNumber

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


def number_pool(rng: random.Random, lines: Sequence[str]) -> list[str]:
    """Every fictional number the demo may use, shuffled, without the regulars' numbers and
    the business's ``lines``."""
    taken = {number for regular in REGULARS for number, _ in regular["numbers"]}
    raw = [f"+1 {area} 555 01{n:02d}" for area in US_AREAS for n in range(100)]
    raw += [f"+44 20 7946 0{n:03d}" for n in range(0, 1000, 37)]
    pool = sorted({numbers.parse(text) for text in raw} - taken - set(lines))
    rng.shuffle(pool)
    return pool


def regulars(today: date) -> list[Customer]:
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


def others(rng: random.Random, pool: list[str], count: int) -> list[Customer]:
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


def untidy(customers: list[Customer]) -> list[Customer]:
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
