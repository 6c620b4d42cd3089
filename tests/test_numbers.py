"""Caller text in, E.164 or a clear "withheld"/"invalid" out."""

from __future__ import annotations

import pytest

from callerid import numbers


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+1 415 555 0134", "US", "+14155550134"),
        ("(415) 555-0134", "US", "+14155550134"),
        ("415.555.0134", "US", "+14155550134"),
        ("1-415-555-0134", "US", "+14155550134"),
        ("00 44 20 7946 0958", "US", "+442079460958"),
        ("+44 (0)20 7946 0958", "US", "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("07912 345678", "GB", "+447912345678"),
        ("  +14155550134  ", "US", "+14155550134"),
    ],
)
def test_numbers_in_any_format_become_e164(raw, region, expected):
    assert numbers.parse(raw, region) == expected
    assert numbers.normalise(raw, region) == numbers.Caller(numbers.NUMBER, number=expected)


@pytest.mark.parametrize(
    "raw",
    [
        "anonymous",
        "Anonymous",
        "Restricted",
        "Unknown",
        "Unavailable",
        "Private",
        "Blocked",
        "",
        None,
        "+266696687",
        "+7378742833",
        "+17378742833",
        "+86282452253",
        "+2562533",
        "+8656696",
        "266696687",
    ],
)
def test_withheld_callers_are_recognised_and_never_a_number(raw):
    caller = numbers.normalise(raw, "US")
    assert caller.kind == numbers.WITHHELD
    assert caller.number is None


@pytest.mark.parametrize("raw", ["garbage", "+15551234567", "12", "+999 123", "555-12"])
def test_invalid_numbers_are_refused_with_a_reason(raw):
    assert numbers.normalise(raw, "US").kind == numbers.INVALID
    with pytest.raises(numbers.InvalidNumber) as refused:
        numbers.parse(raw, "US")
    assert refused.value.reason


def test_withheld_markers_are_refused_as_withheld_not_as_garbage():
    with pytest.raises(numbers.InvalidNumber, match="withheld"):
        numbers.parse("+266696687", "US")


@pytest.mark.parametrize("raw", ["client:anna", "sip:desk@example.com"])
def test_client_and_sip_callers_are_addresses_not_numbers(raw):
    caller = numbers.normalise(raw, "US")
    assert caller.kind == numbers.ADDRESS
    assert caller.number is None


def test_a_new_callers_number_is_described_from_offline_data():
    uk = numbers.describe("+447912345678", "US")
    assert uk["display"] == "+44 7912 345678"
    assert uk["country"] == "United Kingdom"
    assert uk["line_type"] == "mobile"
    assert uk["carrier"] == "O2"
    home = numbers.describe("+14155550134", "US")
    assert home["display"] == "(415) 555-0134"
    assert home["place"] == "San Francisco, CA"


def test_a_mobile_valid_in_several_regions_does_not_blank_its_countrys_name_for_others():
    # +44 7684 ... is valid in the UK and in the Crown Dependencies alike: the geocoder names no
    # country for it. That must not stand as the name of the whole region for later callers.
    numbers._COUNTRY_NAMES.clear()
    numbers._describe.cache_clear()
    ambiguous = numbers.describe("+447684361682", "US")
    assert ambiguous["region"] == "GB"
    london = numbers.describe("+442079460000", "US")
    assert london["country"] == "United Kingdom"
    assert london["place"] == "London"
