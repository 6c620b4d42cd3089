"""flask demo: a believable restaurant to explore, added once, replaced on --reset."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from callerid import numbers
from callerid.auth.users import authenticate
from callerid.cli import demo
from callerid.db import utcnow
from callerid.directory import find_by_number, quality
from callerid.directory.cards import occasion
from callerid.models import Call, Customer, Event, Line, Note, PhoneNumber, User

from ..factories import add_call, add_customer, add_user


def count(session, model, *where) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_demo_fills_customers_calls_lines_and_users(runner, session):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert 55 <= count(session, Customer) <= 65
    assert 380 <= count(session, Call) <= 420
    assert count(session, Note) > 5
    assert count(session, Note, Note.author_id.is_(None)) == 0
    assert count(session, Event) == 0  # history, not news: screens replay nothing
    lines = dict(session.execute(select(Line.number, Line.label)).all())
    assert lines == {"+12025550143": "Downtown", "+12025550144": "Reservations"}
    assert authenticate(session, "desk", "callerid-demo").role == "staff"
    assert authenticate(session, "manager", "callerid-demo").role == "manager"
    assert "desk / callerid-demo" in result.output


def test_demo_calls_look_like_a_real_front_desk(runner, session):
    runner.invoke(args=["demo"])
    calls = count(session, Call)
    missed = count(session, Call, Call.is_missed.is_(True))
    assert 0.05 * calls <= missed <= 0.15 * calls
    assert count(session, Call, Call.caller_kind == numbers.WITHHELD) > 0
    assert count(session, Call, Call.customer_id.is_(None), Call.from_number.is_not(None)) > 0
    assert count(session, Call, Call.received_at > utcnow()) == 0
    outcomes = set(session.scalars(select(Call.outcome).where(Call.outcome != "")))
    assert outcomes == {"booking", "question", "complaint", "other"}


def test_demo_numbers_are_e164_but_for_a_few_left_for_the_data_quality_page(runner, session):
    runner.invoke(args=["demo"])
    stored = list(session.scalars(select(PhoneNumber.number)))
    untidy = {number for number in stored if not number.startswith("+")}
    assert untidy == {"(503) 555-0172", "555-0199"}
    assert all(numbers.parse(number) == number for number in set(stored) - untidy)
    found = quality.report(session, "US")
    assert {d.survivor.name: d.others[0].name for d in found.duplicates} == {
        "Tomás Herrera": "tomas herrera",
        "Charlotte Davies": "C. Davies",
    }
    [household] = found.households
    assert {c.name for c in find_by_number(session, household.number)} == {
        "Daniel Okafor",
        "Grace Okafor",
    }
    assert [bad.proposal for bad in found.bad_numbers] == ["+15035550172", None]


def test_demo_has_birthdays_coming_up_and_a_customer_not_to_greet(runner, session):
    runner.invoke(args=["demo"])
    today = utcnow().date()
    soon = [occasion(c, today) for c in session.scalars(select(Customer))]
    assert "Birthday in 3 days" in soon
    assert count(session, Customer, Customer.do_not_greet.is_(True)) == 1


def test_demo_names_a_vip_to_ring_as_with_a_working_command(runner, session):
    result = runner.invoke(args=["demo"])
    number = re.search(r'flask --app wsgi simulate call "(\+\d+)"', result.output).group(1)
    star = find_by_number(session, number)[0]
    assert star.is_vip and star.notes and star.preferences
    assert star.name in result.output


def test_running_demo_twice_adds_nothing_the_second_time(runner, session):
    runner.invoke(args=["demo"])
    before = (count(session, Customer), count(session, Call), count(session, User))
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0
    assert "already has 62 customers" in again.output and "--reset" in again.output
    assert (count(session, Customer), count(session, Call), count(session, User)) == before


def test_demo_reset_replaces_everything_but_users(runner, session):
    add_customer(session, "Real Customer", numbers=("+16175550122",))
    add_user(session, "desk", password="my own password")
    result = runner.invoke(args=["demo", "--reset"])
    assert result.exit_code == 0, result.output
    assert count(session, Customer, Customer.name == "Real Customer") == 0
    assert count(session, Customer) == 62  # 60, and two entered twice (see demo.people.untidy)
    assert "desk (password kept)" in result.output
    assert authenticate(session, "desk", "my own password") is not None


def test_demo_is_the_same_every_time(runner, session):
    runner.invoke(args=["demo"])
    first = list(session.execute(select(Customer.name, PhoneNumber.number).join(Customer.numbers)))
    runner.invoke(args=["demo", "--reset"])
    second = list(session.execute(select(Customer.name, PhoneNumber.number).join(Customer.numbers)))
    assert sorted(first) == sorted(second)


def test_demo_labels_the_lines_real_calls_already_created(runner, session):
    add_call(session, line="+12025550143")  # an unknown caller, before any customer exists
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert count(session, Line, Line.number == "+12025550143", Line.label == "Downtown") == 1


def test_demo_titles_fit_the_names_and_regulars_were_customers_before_they_called(runner, session):
    runner.invoke(args=["demo"])
    for customer in session.scalars(select(Customer).where(Customer.salutation != "")):
        first = customer.name.split()[0]
        if first in demo.people.MALE:
            assert customer.salutation in ("Mr.", "Dr."), customer.name
        if first in demo.people.FEMALE:
            assert customer.salutation in ("Mrs.", "Ms.", "Dr."), customer.name
    firsts = dict(
        session.execute(
            select(Call.customer_id, func.min(Call.received_at)).group_by(Call.customer_id)
        ).all()
    )
    for customer in session.scalars(select(Customer).where(Customer.id.in_(list(firsts)))):
        assert customer.created_at < firsts[customer.id], customer.name
    eleanor = session.scalar(select(Customer).where(Customer.name == "Eleanor Whitfield"))
    assert (eleanor.alerts, eleanor.preferences) == (
        "Severe peanut allergy.",
        "Table 7 by the window. Sparkling water, no ice.",
    )


def test_demo_prints_a_simulated_call_that_reaches_the_server_on_any_port(runner):
    elsewhere = runner.invoke(args=["demo", "--url", "http://127.0.0.1:8080"])
    assert re.search(
        r'simulate call "\+\d+" --url http://127\.0\.0\.1:8080$', elsewhere.output, re.M
    )
    assert "Alert: Severe peanut allergy." in elsewhere.output
    usual = runner.invoke(args=["demo", "--reset", "--url", "http://127.0.0.1:8000"])
    assert re.search(r'simulate call "\+\d+"$', usual.output, re.M)
