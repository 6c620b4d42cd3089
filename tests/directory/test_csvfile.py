"""Customers from and to CSV: flexible headers, merging by number, bad rows, round trips."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import delete, func, select

from callerid.directory.csvfile import (
    BadCsv,
    export_customers,
    import_customers,
    parse_date,
    same_person,
)
from callerid.models import Customer, PhoneNumber

from ..factories import add_customer


def customers(session) -> dict[str, list[str]]:
    """Every customer's name with their numbers, as the database has them now."""
    session.expire_all()
    found: dict[str, list[str]] = {}
    for customer in session.scalars(select(Customer).order_by(Customer.id)):
        found[customer.name] = [n.number for n in customer.numbers]
    return found


def count(session) -> int:
    return session.scalar(select(func.count()).select_from(Customer))


def imported(session, text: str | bytes, region: str = "US", **options):
    result = import_customers(session, text, region, **options)
    session.commit()
    return result


def test_first_and_last_name_and_several_number_columns_are_understood(session):
    imported(
        session, "First Name,Last_Name,MOBILE,Home Phone\nAnna,Moors,415 555 0134,312 555 0187\n"
    )
    anna = session.scalars(select(Customer)).one()
    assert anna.name == "Anna Moors"
    assert [(n.number, n.label) for n in anna.numbers] == [
        ("+14155550134", "mobile"),
        ("+13125550187", "home"),
    ]


def test_contacts_exported_from_google_or_outlook_are_understood(session):
    result = imported(
        session,
        "Given Name,Family Name,E-mail 1 - Value,Phone 1 - Type,Phone 1 - Value,Business Phone\n"
        "Anna,Moors,anna@example.org,Mobile,415 555 0134,202 555 0178\n",
    )
    anna = session.scalars(select(Customer)).one()
    assert (anna.name, anna.email) == ("Anna Moors", "anna@example.org")
    assert [(n.number, n.label) for n in anna.numbers] == [
        ("+14155550134", ""),
        ("+12025550178", "work"),
    ]
    assert result.warnings == ["ignored unknown columns: Phone 1 - Type"]


@pytest.mark.parametrize(
    "raw_number",
    ["(415) 555-0134", "415.555.0134", "+1 415 555 0134", "0014155550134", "1-415-555-0134"],
)
def test_numbers_in_any_format_are_stored_in_e164(session, raw_number):
    imported(session, f"name,phone\nAnna Moors,{raw_number}\n")
    assert customers(session) == {"Anna Moors": ["+14155550134"]}


def test_national_numbers_are_read_in_the_region_given(session):
    imported(session, "name,phone\nAlistair Grant,020 7946 0958\n", region="GB")
    assert customers(session) == {"Alistair Grant": ["+442079460958"]}


def test_every_field_is_read(session):
    cells = {
        "name": "Anna Moors",
        "phone": "4155550134",
        "email": "anna@example.org",
        "notes": "Book club",
        "preferences": "Peanut allergy",
        "vip": "yes",
        "salutation": "Mrs.",
        "nickname": "Annie",
        "tags": '"regular; wine club"',
        "dob": "1980-05-13",
        "anniversary": "2004-06-01",
        "do not greet": "no",
        "do_not_contact": "X",
    }
    imported(session, ",".join(cells) + "\n" + ",".join(cells.values()) + "\n")
    anna = session.scalars(select(Customer)).one()
    assert (anna.email, anna.notes, anna.preferences) == (
        "anna@example.org",
        "Book club",
        "Peanut allergy",
    )
    assert (anna.salutation, anna.preferred_name, anna.tags) == (
        "Mrs.",
        "Annie",
        "regular, wine club",
    )
    assert (anna.birthday, anna.anniversary) == (date(1980, 5, 13), date(2004, 6, 1))
    assert anna.is_vip and not anna.do_not_greet
    assert anna.do_not_contact


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("yes", True),
        ("Y", True),
        ("x", True),
        ("1", True),
        ("TRUE", True),
        ("", False),
        ("no", False),
        ("0", False),
    ],
)
def test_vip_reads_the_usual_ways_of_saying_yes_and_no(session, cell, expected):
    imported(session, f"name,phone,vip\nAnna Moors,4155550134,{cell}\n")
    assert session.scalar(select(Customer.is_vip)) is expected


def test_a_number_repeated_in_the_file_makes_one_customer(session):
    result = imported(
        session,
        "name,phone,email,notes\n"
        "Anna Moors,(415) 555-0134,,Window table\n"
        "anna moors,+1 415 555 0134,anna@example.org,Birthday dinner in May\n",
    )
    assert customers(session) == {"Anna Moors": ["+14155550134"]}
    anna = session.scalars(select(Customer)).one()
    assert anna.email == "anna@example.org"
    assert anna.notes == "Window table\nBirthday dinner in May"
    assert (result.created, result.merged) == (1, 1)


def test_a_known_number_fills_in_its_customer_instead_of_adding_one(session):
    add_customer(session, "Anna Moors", numbers=("+14155550134",), salutation="Mrs.", notes="Old")
    result = imported(
        session,
        "name,mobile,work,salutation,email,notes\n"
        "A. Moors,415-555-0134,202 555 0178,Dr.,anna@example.org,Likes jazz\n",
    )
    assert customers(session) == {"Anna Moors": ["+14155550134", "+12025550178"]}
    anna = session.scalars(select(Customer)).one()
    assert anna.salutation == "Mrs."  # filled in when empty, never overwritten
    assert anna.email == "anna@example.org"
    assert anna.notes == "Old\nLikes jazz"
    assert (result.created, result.updated, result.numbers_added) == (0, 1, 1)


def test_importing_the_same_file_twice_changes_nothing(session):
    text = (
        "name,phone,notes,tags\nAnna Moors,4155550134,Window table,regular\nBob Hale,3125550187,,\n"
    )
    imported(session, text)
    again = imported(session, text)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert session.scalar(select(Customer.notes).where(Customer.name == "Anna Moors")) == (
        "Window table"
    )


def test_a_household_on_one_landline_is_two_customers_sharing_it(session):
    add_customer(session, "Anna Moors", numbers=("+13125550187",))
    result = imported(session, "name,landline\nJames Moors,312 555 0187\n")
    assert customers(session) == {
        "Anna Moors": ["+13125550187"],
        "James Moors": ["+13125550187"],
    }
    assert result.shared == ["line 2: +13125550187 is shared by Anna Moors and James Moors"]


def test_a_row_without_a_name_updates_the_only_owner_of_its_number(session):
    add_customer(session, "Anna Moors", numbers=("+14155550134",))
    imported(session, "name,phone,vip\n,4155550134,yes\n")
    assert session.scalar(select(Customer.is_vip)) is True
    assert count(session) == 1


def test_a_row_without_a_name_on_a_shared_number_is_bad(session):
    add_customer(session, "Anna Moors", numbers=("+13125550187",))
    add_customer(session, "James Moors", numbers=("+13125550187",))
    result = imported(session, "name,phone,vip\n,3125550187,yes\n")
    assert [str(bad) for bad in result.bad] == [
        "line 2: no name, and its number belongs to Anna Moors and James Moors; add a name"
    ]


def test_bad_rows_are_reported_by_physical_line_and_nothing_is_written(session):
    text = (
        "name,phone,notes,birthday\n"
        'Anna Moors,4155550134,"Window table,\nnot the bar",\n'  # lines 2-3
        "Bob Hale,555-12,,\n"  # line 4
        ",,,\n"  # line 5: blank, skipped
        "\n"
        "Cleo Park,3125550187,,31/31/1980\n"  # line 7
        ",,Just a note,\n"  # line 8
    )
    result = imported(session, text)
    assert [str(bad) for bad in result.bad] == [
        "line 4: phone '555-12' is not a phone number (read as a US number)",
        "line 7: birthday '31/31/1980' is not a date (use YYYY-MM-DD)",
        "line 8: no name and no phone number",
    ]
    assert not result.written
    assert count(session) == 0


def test_skip_bad_writes_the_good_rows_only(session):
    result = imported(
        session, "name,phone\nAnna Moors,4155550134\nBob Hale,555-12\n", skip_bad=True
    )
    assert customers(session) == {"Anna Moors": ["+14155550134"]}
    assert result.written and len(result.bad) == 1


def test_a_dry_run_counts_but_writes_nothing(session):
    result = imported(session, "name,phone\nAnna Moors,4155550134\n", dry_run=True)
    assert (result.created, result.written) == (1, False)
    assert count(session) == 0


@pytest.mark.parametrize(
    "data",
    [
        b"\xef\xbb\xbfName;Phone\r\nJos\xc3\xa9 Moors;+1 415 555 0134\r\n",  # UTF-8 BOM, ;
        b"sep=;\r\nName;Phone\r\nJos\xc3\xa9 Moors;+1 415 555 0134\r\n",  # Excel's hint line
        b"Name\tPhone\nJos\xe9 Moors\t+1 415 555 0134\n",  # Windows-1252, tabs
        "Name,Phone\r\nJosé Moors,+1 415 555 0134\r\n".encode("utf-16"),  # Excel "Unicode"
        b"Name,Phone\rJos\xc3\xa9 Moors,+1 415 555 0134\r",  # old Mac line ends
    ],
)
def test_spreadsheet_files_are_read(session, data):
    imported(session, data)
    assert customers(session) == {"José Moors": ["+14155550134"]}


def test_unknown_columns_are_ignored_with_one_warning(session):
    result = imported(session, "name,phone,Favourite colour,Loyalty #\nAnna,4155550134,blue,7\n")
    assert result.warnings == ["ignored unknown columns: Favourite colour, Loyalty #"]
    assert count(session) == 1


def test_a_file_without_name_or_number_columns_is_refused_naming_what_it_has(session):
    with pytest.raises(BadCsv, match="found: Email, Notes"):
        import_customers(session, "Email,Notes\na@example.org,hi\n", "US")


def test_an_empty_file_is_refused(session):
    with pytest.raises(BadCsv, match="empty"):
        import_customers(session, "", "US")


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        ("1980-05-13", "US", date(1980, 5, 13)),
        ("1980-05-13 00:00:00", "GB", date(1980, 5, 13)),
        ("05/13/1980", "US", date(1980, 5, 13)),
        ("13/05/1980", "US", date(1980, 5, 13)),  # only one reading is a date
        ("05/06/1980", "US", date(1980, 5, 6)),  # month first in the US
        ("05/06/1980", "GB", date(1980, 6, 5)),  # day first elsewhere
        ("05.06.1980", "US", date(1980, 6, 5)),  # dots are always day first
        ("5/6/80", "GB", date(1980, 6, 5)),
    ],
)
def test_dates_are_read_by_one_documented_rule(text, region, expected):
    assert parse_date(text, region, today=date(2026, 1, 1)) == expected


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Anna Moors", "anna  moors", True),
        ("Anna Moors", "Mrs. Anna Moors", True),
        ("Anna Moors", "A. Moors", True),
        ("Anna Moors", "Anna", True),
        ("Robert Hale", "Rob Hale", True),
        ("José Moors", "Jose Moors", True),
        ("Anna Moors", "", True),
        ("Anna Moors", "James Moors", False),
        ("Anna Moors", "Bob Hale", False),
        ("Al Hale", "Alice Hale", False),  # two letters are not enough to agree
    ],
)
def test_names_on_one_number_are_the_same_person_only_when_compatible(a, b, same):
    assert same_person(a, b) is same


def exported(session) -> list[list[str]]:
    return list(export_customers(session))


def test_the_export_has_a_header_and_one_row_per_customer(session):
    add_customer(session, "Anna Moors", numbers=("+14155550134", "+13125550187"), is_vip=True)
    add_customer(session, "", numbers=())  # erased: nothing to export
    header, *rows = exported(session)
    assert header[:5] == ["id", "name", "salutation", "preferred_name", "phone"]
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert row["phone"] == "+14155550134; +13125550187"
    assert row["vip"] == "yes"


def test_export_then_import_gives_back_the_same_customers(session):
    add_customer(
        session,
        "José Moors",
        numbers=("+14155550134", "+442079460958"),
        salutation="Dr.",
        preferred_name="Pepe",
        email="jose@example.org",
        notes="First line\nsecond line, with a comma",
        preferences="=no formulas please",
        tags="regular, wine club",
        is_vip=True,
        do_not_greet=True,
        do_not_contact=True,
        birthday=date(1980, 2, 29),
        anniversary=date(2004, 6, 1),
    )
    add_customer(session, "James Moors", numbers=("+13125550187",))
    add_customer(session, "Anna Moors", numbers=("+13125550187",))
    add_customer(session, "No Phone", numbers=())
    buffer = io.StringIO()
    csv.writer(buffer).writerows(exported(session))
    before = [row[1:] for row in exported(session)]
    assert [row[-1] for row in before] == ["do_not_contact", "yes", "no", "no", "no"]
    assert "'=no formulas please" in buffer.getvalue()  # spreadsheets must not run it

    session.execute(delete(PhoneNumber))
    session.execute(delete(Customer))
    session.commit()
    result = imported(session, buffer.getvalue())

    assert not result.bad and not result.warnings
    assert [row[1:] for row in exported(session)] == before
    again = imported(session, buffer.getvalue())
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
