"""What the desk says when it picks up."""

from __future__ import annotations

from datetime import date

import pytest

from callerid.directory import greeting
from callerid.directory.cards import NEUTRAL_GREETING, occasion
from callerid.models import Customer


def customer(**fields) -> Customer:
    defaults = {"name": "", "salutation": "", "preferred_name": "", "do_not_greet": False}
    return Customer(**{**defaults, **fields})


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"name": "Anna Moors", "salutation": "Mrs."}, "Welcome back, Mrs. Moors"),
        ({"name": "Anna van der Moors", "salutation": "Dr"}, "Welcome back, Dr Moors"),
        (
            {"name": "Anna Moors", "salutation": "Mrs.", "preferred_name": "Annie"},
            "Welcome back, Annie",
        ),
        ({"name": "Anna Moors"}, "Welcome back, Anna"),
        ({"name": "  "}, "Welcome back"),
        ({"name": "Anna Moors", "salutation": "Mrs.", "do_not_greet": True}, NEUTRAL_GREETING),
    ],
)
def test_greeting_follows_the_customers_wishes(fields, expected):
    assert greeting(customer(**fields)) == expected


def test_unknown_caller_gets_the_neutral_greeting():
    assert greeting(None) == NEUTRAL_GREETING


@pytest.mark.parametrize(
    ("birthday", "today", "expected"),
    [
        (date(1980, 11, 25), date(2026, 11, 22), "Birthday in 3 days"),
        (date(1980, 11, 22), date(2026, 11, 22), "Birthday today"),
        (date(1980, 11, 23), date(2026, 11, 22), "Birthday in 1 day"),
        (date(1980, 1, 2), date(2026, 12, 30), "Birthday in 3 days"),
        (date(1980, 12, 30), date(2026, 11, 22), None),
        (date(1980, 2, 29), date(2027, 2, 26), "Birthday in 2 days"),
    ],
)
def test_a_birthday_within_a_week_is_on_the_card(birthday, today, expected):
    assert occasion(customer(birthday=birthday, anniversary=None), today) == expected
