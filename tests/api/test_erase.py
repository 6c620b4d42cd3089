"""DELETE /api/customers/<id>: personal data goes from everywhere it was; statistics stay."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from callerid import calls, ringing
from callerid.db import utcnow
from callerid.models import AuditEntry, Call, Customer, Event, Note, PhoneNumber

from ..factories import add_call, add_customer

ANNA = "+14155550134"  # only Anna's
HOME = "+14155550100"  # Anna's and Bob's: they live together
LINE = "+12025550143"


def ring(session, sid: str, raw_from: str, *, answered: bool = True, days_ago: int = 1):
    """A call as the webhooks record it, with its events (cards) written."""
    at = utcnow() - timedelta(days=days_ago)
    today = utcnow().date()
    call = calls.record_ring(
        session, ringing.Ring(sid, raw_from, LINE, received_at=at), "US", today=today
    )
    if answered:
        calls.progress(
            session, call, "in-progress", "US", at=at + timedelta(seconds=5), today=today
        )
    calls.progress(
        session, call, "completed" if answered else "no-answer", "US", at=at, today=today
    )
    session.commit()
    return call


@pytest.fixture
def household(session):
    anna = add_customer(
        session,
        "Anna Moors",
        numbers=(ANNA, HOME),
        salutation="Mrs.",
        email="anna@example.com",
        notes="Allergic to nuts",
        tags="regular",
        is_vip=True,
    )
    bob = add_customer(session, "Bob Moors", numbers=(HOME,))
    # Before Anna was a customer she called once, unrecognised.
    early = add_call(session, None, from_number=ANNA, at=utcnow() - timedelta(days=30))
    session.add(Note(call_id=early.id, body="Asked about opening hours"))
    ring(session, "CAanna1", "(415) 555-0134", days_ago=3)
    ring(session, "CAanna2", "415-555-0134", answered=False, days_ago=2)
    ring(session, "CAbob1", "415-555-0100", days_ago=1)  # Bob's: he last called from home...
    ring(session, "CAanna3", "415.555.0134", days_ago=1)
    anna_call = session.scalar(select(Call).where(Call.call_sid == "CAanna1"))
    session.add(Note(call_id=anna_call.id, customer_id=anna.id, body="Birthday dinner for Anna"))
    session.add(Note(customer_id=anna.id, body="Prefers the window table"))
    bob_call = session.scalar(select(Call).where(Call.call_sid == "CAbob1"))
    bob_call.customer = bob
    session.add(Note(call_id=bob_call.id, customer_id=bob.id, body="Bob booked a taxi"))
    session.commit()
    return anna.id, bob.id


def insights(client, manager) -> dict:
    since = (utcnow() - timedelta(days=40)).date().isoformat()
    return client.get(f"/api/insights?since={since}", headers=manager).get_json()


def test_erasing_blanks_the_customer_and_removes_their_numbers(client, session, manager, household):
    anna_id, bob_id = household
    response = client.delete(f"/api/customers/{anna_id}", headers=manager)
    assert response.status_code == 200
    session.expire_all()
    anna = session.get(Customer, anna_id)
    assert anna.erased_at is not None
    personal = (anna.name, anna.salutation, anna.email, anna.notes, anna.tags, anna.is_vip)
    assert personal == ("", "", "", "", "", False)
    owners = session.execute(select(PhoneNumber.customer_id, PhoneNumber.number)).all()
    assert owners == [(bob_id, HOME)]


def test_erasing_anonymises_their_calls_and_deletes_notes_about_them(
    client, session, manager, household
):
    anna_id, bob_id = household
    body = client.delete(f"/api/customers/{anna_id}", headers=manager).get_json()["erased"]
    assert body["calls_anonymised"] == 4  # three recognised, one from before she was a customer
    assert body["notes_deleted"] == 3
    session.expire_all()
    assert session.scalars(select(Call).where(Call.customer_id == anna_id)).all() == []
    assert session.scalars(select(Call).where(Call.from_number == ANNA)).all() == []
    raw = session.scalars(select(Call.raw_from)).all()
    assert not [r for r in raw if "0134" in r]
    assert session.scalars(select(Note.body)).all() == ["Bob booked a taxi"]
    bob_call = session.scalar(select(Call).where(Call.call_sid == "CAbob1"))
    assert (bob_call.customer_id, bob_call.from_number) == (bob_id, HOME)


def test_erasing_rewrites_or_deletes_every_event_that_showed_them(
    client, session, manager, household
):
    anna_id, _ = household
    before = session.scalar(select(Event.id).order_by(Event.id.desc()).limit(1))
    client.delete(f"/api/customers/{anna_id}", headers=manager)
    session.expire_all()
    events = session.scalars(select(Event)).all()
    assert events, "call cards are rewritten, not all deleted"
    for event in events:
        for trace in ("Anna", "0134", "anna@example.com", "Mrs.", "Allergic", "Birthday dinner"):
            assert trace not in event.data, (event.kind, event.data)
        assert f'"id":{anna_id},' not in event.data
    # One announcement, so open screens redraw her cards: already without her (checked above).
    assert [e.kind for e in events if e.id > before] == ["customer.updated"]


def test_other_events_that_show_them_are_deleted(client, session, manager, household):
    anna_id, bob_id = household
    for customer_id, name in ((anna_id, "Anna Moors"), (bob_id, "Bob Moors")):
        details = {"customer_id": customer_id, "customer": {"id": customer_id, "name": name}}
        session.add(Event(kind="customer.updated", data=json.dumps(details, separators=(",", ":"))))
    session.commit()
    before = session.scalar(select(Event.id).order_by(Event.id.desc()).limit(1))
    erased = client.delete(f"/api/customers/{anna_id}", headers=manager).get_json()["erased"]
    assert erased["events_deleted"] == 1
    kept = session.scalars(
        select(Event.data).where(Event.kind == "customer.updated", Event.id <= before)
    ).all()
    assert [json.loads(data)["customer_id"] for data in kept] == [bob_id]


def test_insights_count_the_same_after_erasing(client, session, manager, household):
    anna_id, _ = household
    before = insights(client, manager)
    client.delete(f"/api/customers/{anna_id}", headers=manager)
    after = insights(client, manager)
    assert after["total_calls"] == before["total_calls"] == 5
    assert after["returning"] == before["returning"] == 2
    for key in ("answered", "missed", "per_day", "per_hour"):
        assert after[key] == before[key], key
    # Waiting callers are those someone can call back: an erased customer no longer is (as on
    # /missed and the badge, which leave anonymised calls out).
    assert (before["missed_not_called_back"], after["missed_not_called_back"]) == (1, 0)
    assert anna_id not in [t["customer_id"] for t in after["top_callers"]]


def test_an_erased_customer_is_gone_from_search_and_reading_says_so(
    client, session, manager, household
):
    anna_id, _ = household
    client.delete(f"/api/customers/{anna_id}", headers=manager)
    assert client.get("/api/customers?q=anna", headers=manager).get_json()["customers"] == []
    for method in ("GET", "PATCH", "DELETE"):
        response = client.open(f"/api/customers/{anna_id}", method=method, json={}, headers=manager)
        assert response.status_code == 410, method


def test_erasing_is_audited_with_counts_only(client, session, manager, household):
    anna_id, _ = household
    client.delete(f"/api/customers/{anna_id}", headers=manager)
    entry = session.scalar(select(AuditEntry))
    assert (entry.actor, entry.action, entry.target) == ("boss", "erase", f"customer {anna_id}")
    assert "Anna" not in entry.detail and "0134" not in entry.detail


def test_a_later_call_from_their_number_is_a_new_caller(client, session, manager, household):
    anna_id, _ = household
    client.delete(f"/api/customers/{anna_id}", headers=manager)
    call = ring(session, "CAafter", "(415) 555-0134")
    assert call.customer_id is None
    assert session.scalar(select(Event.data).order_by(Event.id.desc()).limit(1)).count("Anna") == 0
