"""Merging two records of one customer keeps everything of both."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from callerid import texts, textwords
from callerid.db import utcnow
from callerid.directory import customers
from callerid.directory.merge import SelfMerge, merge
from callerid.models import AuditEntry, Call, Callback, Customer, Note, PhoneNumber, TextSent

from ..factories import add_call, add_customer


@pytest.fixture
def pair(session):
    survivor = add_customer(
        session,
        "Anna Moors",
        numbers=("+14155550134", "+14155550100"),
        notes="Allergic to nuts",
        tags="regular, wine",
        email="anna@example.com",
        birthday=date(1980, 5, 17),
    )
    merged = add_customer(
        session,
        "Anna M.",
        numbers=("+14155550100", "+447912345678"),
        notes="Prefers the terrace",
        preferences="Sparkling water",
        tags="Wine, birthday club",
        salutation="Mrs.",
        email="anna.m@example.com",
        anniversary=date(2005, 9, 3),
        is_vip=True,
        do_not_contact=True,
    )
    session.get(PhoneNumber, merged.numbers[1].id).label = "mobile"
    session.commit()
    return survivor, merged


def test_numbers_calls_and_notes_move_to_the_survivor(session, pair):
    survivor, merged = pair
    theirs = [add_call(session, merged, at=utcnow() - timedelta(days=d)) for d in (1, 2)]
    mine = add_call(session, survivor)
    session.add(Note(call_id=theirs[0].id, customer_id=merged.id, body="Wants a cake"))
    session.commit()
    done = merge(session, merged.id, survivor.id, actor="boss")
    session.commit()
    assert (done.numbers, done.calls, done.notes) == (1, 2, 1)
    numbers = {row.number: row.label for row in customers.get(session, survivor.id).numbers}
    assert numbers == {"+14155550134": "", "+14155550100": "", "+447912345678": "mobile"}
    calls = session.scalars(select(Call.call_sid).where(Call.customer_id == survivor.id)).all()
    assert sorted(calls) == sorted([c.call_sid for c in theirs] + [mine.call_sid])
    assert (
        session.scalar(select(Note.customer_id).where(Note.body == "Wants a cake")) == survivor.id
    )


def test_empty_fields_fill_in_texts_append_tags_unite_and_vip_holds(session, pair):
    survivor, merged = pair
    merge(session, merged.id, survivor.id, actor="boss")
    session.commit()
    anna = customers.get(session, survivor.id)
    assert anna.name == "Anna Moors"
    assert anna.salutation == "Mrs."
    assert anna.anniversary == date(2005, 9, 3)
    assert anna.birthday == date(1980, 5, 17)
    assert anna.preferences == "Sparkling water"
    assert anna.tag_list == ["regular", "wine", "birthday club"]
    assert anna.is_vip is True
    assert anna.do_not_contact is True  # a wish not to be contacted survives the merge
    # The merged record's differing name and email are kept in the notes: nothing is lost.
    assert anna.notes.startswith("Allergic to nuts\n\nPrefers the terrace\n\n")
    assert "name: Anna M." in anna.notes and "email: anna.m@example.com" in anna.notes


def test_the_merged_customer_is_gone_and_the_merge_is_audited(session, pair):
    survivor, merged = pair
    merged_id = merged.id
    merge(session, merged_id, survivor.id, actor="boss", user_id=None)
    session.commit()
    session.expunge_all()
    assert session.get(Customer, merged_id) is None
    entry = session.scalar(select(AuditEntry))
    assert (entry.actor, entry.action, entry.target) == ("boss", "merge", f"customer {merged_id}")
    assert entry.detail.startswith(f"into customer {survivor.id}")


def test_a_customer_cannot_be_merged_into_itself(session, pair):
    survivor, _ = pair
    with pytest.raises(SelfMerge):
        merge(session, survivor.id, survivor.id, actor="boss")


def test_merging_with_an_unknown_customer_changes_nothing(session, pair):
    survivor, merged = pair
    with pytest.raises(customers.UnknownCustomer):
        merge(session, merged.id, 999, actor="boss")
    session.rollback()
    assert customers.get(session, merged.id).name == "Anna M."


def test_the_merged_customers_texts_and_call_backs_move_to_the_survivor(session, pair):
    # The survivor's page lists texts and call-backs by customer: left behind, they vanished.
    survivor, merged = pair
    call = add_call(session, merged, status="no-answer", is_missed=True)
    session.add(
        TextSent(
            call_id=call.id,
            customer_id=merged.id,
            number="+14155550100",
            sender="+12025550143",
            body="Hi Anna, sorry we missed your call.",
            status="delivered",
            due_at=utcnow(),
        )
    )
    texts.receive(
        session, message_sid="SM" + "1" * 32, raw_from="+447912345678", raw_to="+12025550143",
        body="Can I book for 8?", opt_out_type="", region="US", at=utcnow(),
    )  # fmt: skip
    session.add(
        Callback(
            call_id=call.id, customer_id=merged.id, number="+14155550100",
            line="+12025550143", status="ended", ended_at=utcnow(),
        )
    )  # fmt: skip
    session.commit()
    merge(session, merged.id, survivor.id, actor="boss")
    session.commit()
    session.expire_all()
    sent = textwords.of_customer(session, survivor.id)
    assert [row.body for row in sent] == ["Hi Anna, sorry we missed your call."]
    assert [row.body for row in texts.of_customer(session, survivor.id)] == ["Can I book for 8?"]
    assert session.scalar(select(Callback.customer_id)) == survivor.id
