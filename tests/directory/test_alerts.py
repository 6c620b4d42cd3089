"""Alerts and the pronunciation hint: one set of rules for every path a customer is written by,
and on every card the desk sees."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from callerid.directory import customers, erase
from callerid.directory.csvfile import export_customers, import_customers
from callerid.directory.merge import merge
from callerid.models import Customer, Event

from ..factories import add_customer, call_sid
from ..twilio import post_signed, sample

ALERT = "Severe peanut allergy: no nuts, no nut oils."


def test_alerts_and_pronunciation_are_kept_trimmed(session):
    anna = customers.create(
        session,
        {"name": "Anna Nguyen", "alerts": f"  {ALERT} ", "pronunciation": "Nguyen: say 'win'"},
    )
    customers.update(session, anna.id, {"alerts": "Speaks slowly"})
    assert (anna.alerts, anna.pronunciation) == ("Speaks slowly", "Nguyen: say 'win'")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("alerts", "x" * 301, "alerts has at most 300 characters"),
        ("pronunciation", "x" * 121, "pronunciation has at most 120 characters"),
        ("alerts", ["nuts"], "alerts must be text"),
    ],
)
def test_an_alert_or_hint_that_does_not_fit_is_refused_saying_why(session, field, value, message):
    with pytest.raises(customers.InvalidCustomer, match=message):
        customers.create(session, {"name": "Anna", field: value})
    assert customers.field_errors({field: value}) == {field: message}


def test_the_ringing_card_carries_the_alert_and_the_hint(client, session):
    add_customer(
        session,
        "Anna Nguyen",
        numbers=("+13125550187",),
        alerts=ALERT,
        pronunciation="Nguyen: say 'win'",
    )
    params = sample("voice-inbound-us", CallSid=call_sid(), From="+13125550187")
    assert post_signed(client, "/twilio/voice", params).status_code == 200
    event = session.scalars(select(Event).where(Event.kind == "call.ringing")).one()
    customer = json.loads(event.data)["customer"]
    assert (customer["alerts"], customer["pronunciation"]) == (ALERT, "Nguyen: say 'win'")


def test_the_csv_import_reads_alerts_and_the_export_writes_them(session):
    import_customers(
        session,
        f'name,phone,alerts,pronunciation\nAnna Nguyen,415 555 0134,"{ALERT}",say win\n',
        "US",
    )
    session.commit()
    anna = session.scalars(select(Customer)).one()
    assert (anna.alerts, anna.pronunciation) == (ALERT, "say win")
    header, row = list(export_customers(session))
    exported = dict(zip(header, row, strict=True))
    assert (exported["alerts"], exported["pronunciation"]) == (ALERT, "say win")


def test_a_csv_row_with_an_overlong_alert_is_bad_by_the_same_rule(session):
    result = import_customers(session, f"name,phone,alerts\nAnna,415 555 0134,{'x' * 301}\n", "US")
    assert [str(bad) for bad in result.bad] == ["line 2: alerts has at most 300 characters"]


def test_merging_keeps_both_alerts_and_erasing_removes_them(session):
    anna = add_customer(session, "Anna Moors", alerts="Peanut allergy")
    twin = add_customer(
        session, "Anna M.", alerts="Wheelchair user", pronunciation="Moors: 'mores'"
    )
    merge(session, twin.id, anna.id, actor="boss")
    session.commit()
    assert (anna.alerts, anna.pronunciation) == (
        "Peanut allergy; Wheelchair user",
        "Moors: 'mores'",
    )
    erase.erase(session, anna.id, actor="boss")
    session.commit()
    assert (anna.alerts, anna.pronunciation) == ("", "")


def test_an_alert_too_long_to_merge_waits_in_the_notes(session):
    anna = add_customer(session, "Anna Moors", alerts="a" * 200)
    twin = add_customer(session, "Anna M.", alerts="b" * 200)
    merge(session, twin.id, anna.id, actor="boss")
    assert anna.alerts == "a" * 200
    assert f"alert: {'b' * 200}" in anna.notes
