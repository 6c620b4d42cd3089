"""Customer services: search by name or any number format, create and change with checks."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from callerid import numbers
from callerid.db import utcnow
from callerid.directory import customers
from callerid.directory.csvfile import import_customers
from callerid.directory.search import search

from ..factories import add_call, add_customer


@pytest.fixture
def directory(session):
    anna = add_customer(session, "Anna Moors", numbers=("+14155550134",))
    bob = add_customer(session, "Bob Lee", numbers=("+447912345678",))
    cleo = add_customer(session, "Cleo Park", numbers=("+13125550187", "+13125550188"))
    return {"anna": anna.id, "bob": bob.id, "cleo": cleo.id}


def names(found) -> list[str]:
    return [item.customer.name for item in found.customers]


@pytest.mark.parametrize(
    ("q", "who"),
    [
        ("(415) 555-0134", "Anna Moors"),
        ("415.555.0134", "Anna Moors"),
        ("+1 415 555 0134", "Anna Moors"),
        ("001 415 555 0134", "Anna Moors"),
        ("4155550134", "Anna Moors"),
        ("555-0134", "Anna Moors"),
        ("+44 7912 345678", "Bob Lee"),
        ("0044 7912 345678", "Bob Lee"),
        ("07912 345678", "Bob Lee"),
        ("312-555-0188", "Cleo Park"),
    ],
)
def test_a_customer_is_found_by_any_format_of_their_number(session, directory, q, who):
    assert names(search(session, q)) == [who]


@pytest.mark.parametrize("q", ["moors", "ANNA", "na Mo"])
def test_a_customer_is_found_by_part_of_their_name_in_any_case(session, directory, q):
    assert names(search(session, q)) == ["Anna Moors"]


def test_a_number_nobody_has_finds_nobody(session, directory):
    assert search(session, "(212) 555-0100").customers == []


def test_customers_sort_by_name_last_call_or_number_of_calls(session, directory):
    anna, cleo = (session.get(customers.Customer, directory[k]) for k in ("anna", "cleo"))
    for days in (5, 4, 3):
        add_call(session, anna, at=utcnow() - timedelta(days=days))
    add_call(session, cleo, at=utcnow() - timedelta(hours=1))
    assert names(search(session, sort="name")) == ["Anna Moors", "Bob Lee", "Cleo Park"]
    by_calls = search(session, sort="calls").customers
    assert [(i.customer.name, i.calls_count) for i in by_calls] == [
        ("Anna Moors", 3),
        ("Cleo Park", 1),
        ("Bob Lee", 0),
    ]
    by_last = search(session, sort="last_call").customers
    assert [i.customer.name for i in by_last] == ["Cleo Park", "Anna Moors", "Bob Lee"]
    assert by_last[2].last_call_at is None


def test_pages_cut_the_sorted_list_and_say_whether_more_follow(session, directory):
    first = search(session, limit=2, page=1)
    second = search(session, limit=2, page=2)
    assert (names(first), first.has_more, first.total) == (["Anna Moors", "Bob Lee"], True, 3)
    assert (names(second), second.has_more) == (["Cleo Park"], False)


def test_an_unknown_sort_is_refused(session):
    with pytest.raises(customers.InvalidCustomer, match="sort must be one of"):
        search(session, sort="age")


def test_a_new_customer_gets_numbers_in_e164_and_tidy_tags(session):
    customer = customers.create(
        session,
        {
            "name": " Dana Fox ",
            "numbers": ["(415) 555-0199", "+1 415 555 0199", "0044 7912 345679"],
            "tags": "regular, Wine ,wine,",
            "vip": True,
            "birthday": "1980-05-17",
        },
    )
    assert customer.name == "Dana Fox"
    assert [n.number for n in customer.numbers] == ["+14155550199", "+447912345679"]
    assert customer.tag_list == ["regular", "Wine"]
    assert customer.is_vip and customer.birthday == date(1980, 5, 17)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "a customer needs a name or a number"),
        ({"name": "X", "colour": "red"}, "unknown field colour"),
        ({"name": "X", "vip": "yes"}, "vip must be true or false"),
        ({"name": "X", "do_not_contact": "yes"}, "do_not_contact must be true or false"),
        ({"name": "X", "birthday": "17/05/1980"}, "birthday must be a date"),
        ({"name": "X" * 201}, "name has at most 200 characters"),
        ({"name": "X", "email": "not an address"}, "is not an email address"),
        ({"name": "X", "tags": ["a,b"]}, "a tag cannot contain a comma"),
        ({"name": "X", "numbers": "+14155550199"}, "numbers must be a list"),
    ],
)
def test_values_that_do_not_fit_are_refused_with_a_reason(session, data, message):
    with pytest.raises(customers.InvalidCustomer, match=message):
        customers.create(session, data)


def test_a_number_that_is_not_one_is_refused_with_the_number_and_why(session):
    with pytest.raises(numbers.InvalidNumber) as caught:
        customers.create(session, {"name": "X", "numbers": ["+14155550199", "12"]})
    assert caught.value.raw_number == "12"
    assert caught.value.reason


def test_an_update_changes_only_what_it_names(session, directory):
    customers.update(session, directory["anna"], {"vip": True, "preferences": "Window table"})
    anna = customers.get(session, directory["anna"])
    assert (anna.name, anna.is_vip, anna.preferences) == ("Anna Moors", True, "Window table")
    assert [n.number for n in anna.numbers] == ["+14155550134"]


def test_numbers_can_be_replaced_or_added_and_removed(session, directory):
    cleo = directory["cleo"]
    customers.update(
        session, cleo, {"add_numbers": ["415 555 0199"], "remove_numbers": ["312-555-0187"]}
    )
    assert [n.number for n in customers.get(session, cleo).numbers] == [
        "+13125550188",
        "+14155550199",
    ]
    customers.update(session, cleo, {"numbers": ["+1 415 555 0199", "(212) 555-0100"]})
    assert [n.number for n in customers.get(session, cleo).numbers] == [
        "+14155550199",
        "+12125550100",
    ]


def test_replacing_and_adjusting_numbers_at_once_is_refused(session, directory):
    with pytest.raises(customers.InvalidCustomer, match="either numbers"):
        customers.update(
            session, directory["cleo"], {"numbers": [], "add_numbers": ["+14155550199"]}
        )


def test_an_unknown_customer_cannot_be_read_or_changed(session):
    with pytest.raises(customers.UnknownCustomer):
        customers.get(session, 999)
    with pytest.raises(customers.UnknownCustomer):
        customers.update(session, 999, {"vip": True})


@pytest.mark.parametrize("q", ["tomas", "TOMÁS", "herrera tomas", "Herrera, Tomás", "tom"])
def test_search_ignores_accents_case_and_word_order(session, q):
    add_customer(session, "Tomás Herrera", numbers=("+16465550111",), preferred_name="Tom")
    add_customer(session, "Eleanor Whitfield", numbers=("+14155550134",))
    assert names(search(session, q)) == ["Tomás Herrera"]


def test_search_finds_customers_the_csv_import_added_or_changed(session):
    add_customer(session, "Eleanor Whitfield", numbers=("+14155550134",))
    import_customers(
        session,
        "name,phone,email\nZoë Ĺake,312 555 0187,\nEleanor Whitfield,415 555 0134,ew@exämple.com\n",
        "US",
    )
    session.commit()
    assert names(search(session, "Lake, Zoe")) == ["Zoë Ĺake"]
    assert names(search(session, "ew@example")) == ["Eleanor Whitfield"]
    customers.update(
        session, search(session, "zoe").customers[0].customer.id, {"name": "Zoë Brook"}
    )
    assert names(search(session, "brook")) == ["Zoë Brook"]
