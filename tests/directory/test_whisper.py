"""The whisper's words, from a customer or a caller alone (no database, no request)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from callerid import business_settings, numbers
from callerid.directory import whisper
from callerid.models import Customer

NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)


def customer(**fields: object) -> Customer:
    defaults = {"name": "Anna Moors", "salutation": "", "preferred_name": "", "alerts": ""}
    return Customer(**{**defaults, "is_vip": False, "do_not_greet": False, **fields})


@pytest.mark.parametrize(
    ("ago", "said"),
    [
        (timedelta(hours=5), "today"),
        (timedelta(days=1, hours=3), "yesterday"),
        (timedelta(days=9), "9 days ago"),
        (timedelta(days=20), "2 weeks ago"),
        (timedelta(days=95), "3 months ago"),
        (timedelta(days=800), "2 years ago"),
    ],
)
def test_the_last_call_is_said_as_a_person_would_say_it(ago, said):
    assert whisper.regular(customer(), NOW - ago, NOW) == f"Anna Moors. Last called {said}."


def test_a_first_time_customer_is_only_named():
    assert whisper.regular(customer(salutation="Mrs."), None, NOW) == "Mrs. Moors."


def test_a_very_long_name_alone_is_cut_to_twelve_words():
    long_name = " ".join(f"Name{i}" for i in range(20))
    words = whisper.regular(customer(name=long_name, is_vip=True), None, NOW)
    assert len(words.split()) == whisper.MAX_WORDS and "VIP" not in words


@pytest.mark.parametrize(
    ("raw", "said"),
    [
        ("Restricted", "Number withheld."),
        ("12", "Unrecognised number."),
        ("client:anna", "New caller."),
        ("+442079460958", "New caller from London."),
    ],
)
def test_callers_without_a_customer(raw, said):
    assert whisper.stranger(numbers.normalise(raw, "US"), "US") == said


@pytest.mark.parametrize(
    ("switched_off", "said"),
    [
        ({"whisper_vip": False}, "Anna Moors. Deaf. Last called today."),
        ({"whisper_alerts": False}, "Anna Moors. VIP. Last called today."),
        ({"whisper_last_call": False}, "Anna Moors. VIP. Deaf."),
        (
            {"whisper_vip": False, "whisper_alerts": False, "whisper_last_call": False},
            "Anna Moors.",
        ),
    ],
)
def test_the_manager_chooses_what_is_said_after_the_name(switched_off, said):
    chosen = replace(business_settings.DEFAULTS, **switched_off)
    anna = customer(is_vip=True, alerts="Deaf")
    assert whisper.regular(anna, NOW - timedelta(hours=2), NOW, chosen) == said
