"""Naming a new caller who is already a customer: suggestions, attach, undo within a minute."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from callerid.db import utcnow
from callerid.models import AuditEntry, Call, Customer, Event, PhoneNumber

from ..factories import add_call, add_customer
from .test_actions import ring

NEW = "+13125550187"


def suggestions(client, desk, sid: str, name: str):
    return client.get(f"/board/calls/{sid}/suggestions", query_string={"name": name}, headers=desk)


def test_three_letters_suggest_at_most_five_customers_with_only_what_tells_them_apart(
    client, session, desk
):
    priya = add_customer(
        session,
        "Priya Raman",
        numbers=("+12025550178",),
        notes="Private: invoice to her company",
        email="priya@example.com",
        alerts="Shellfish allergy",
    )
    add_call(session, priya, at=utcnow() - timedelta(days=3))
    for n in range(6):
        add_customer(session, f"Príscilla Doe {n}", numbers=(f"+1202555010{n}",))
    add_customer(session, "Anna Lee", numbers=("+12025550190",), email="prince@example.com")
    sid = ring(client, NEW)

    answer = suggestions(client, desk, sid, "Pri")
    assert answer.status_code == 200
    found = answer.get_json()["suggestions"]
    assert len(found) == 5
    first = found[0]
    assert set(first) == {"customer_id", "name", "number_hint", "last_call_at"}
    assert (first["name"], first["number_hint"]) == ("Priya Raman", "78")
    assert first["last_call_at"].startswith(str((utcnow() - timedelta(days=3)).date()))
    assert "Anna Lee" not in [s["name"] for s in found]  # her email matches, her name does not
    only = suggestions(client, desk, sid, "raman, pri").get_json()["suggestions"]
    assert [s["name"] for s in only] == ["Priya Raman"]
    assert suggestions(client, desk, sid, "Pr").status_code == 400


def test_attaching_adds_only_the_callers_number_and_can_be_undone_for_a_minute(
    client, session, desk, frozen_clock
):
    priya = add_customer(session, "Priya Raman", numbers=("+12025550178",), notes="Booth 3")
    sid = ring(client, NEW)
    response = client.post(
        f"/board/calls/{sid}/attach", json={"customer_id": priya.id}, headers=desk
    )
    assert response.status_code == 200
    assert response.get_json()["name"] == "Priya Raman"
    session.expire_all()
    saved = session.get(Customer, priya.id)
    assert [n.number for n in saved.numbers] == ["+12025550178", NEW]
    assert (saved.name, saved.notes) == ("Priya Raman", "Booth 3")
    assert session.scalar(select(Call.customer_id).where(Call.call_sid == sid)) == priya.id
    event = session.scalars(select(Event).order_by(Event.id.desc())).first()
    card = json.loads(event.data)["cards"][0]
    assert (event.kind, card["greeting"]) == ("customer.updated", "Welcome back, Priya")

    undone = client.post(
        f"/board/calls/{sid}/attach/undo", json={"customer_id": priya.id}, headers=desk
    )
    assert undone.status_code == 200
    session.expire_all()
    assert [n.number for n in session.get(Customer, priya.id).numbers] == ["+12025550178"]
    event = session.scalars(select(Event).order_by(Event.id.desc())).first()
    card = next(c for c in json.loads(event.data)["cards"] if c["call_sid"] == sid)
    assert card["customer"] is None  # every screen shows a new caller again
    actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["number.attach", "number.attach.undo"]

    client.post(f"/board/calls/{sid}/attach", json={"customer_id": priya.id}, headers=desk)
    frozen_clock.shift(timedelta(seconds=61))
    late = client.post(
        f"/board/calls/{sid}/attach/undo", json={"customer_id": priya.id}, headers=desk
    )
    assert late.status_code == 409
    assert session.scalar(select(PhoneNumber.id).where(PhoneNumber.number == NEW)) is not None


def test_a_known_or_withheld_caller_cannot_be_attached(client, session, desk):
    anna = add_customer(session, "Anna Moors", numbers=(NEW,))
    priya = add_customer(session, "Priya Raman", numbers=("+12025550178",))
    known = ring(client, NEW)
    withheld = ring(client, "anonymous")
    for sid in (known, withheld):
        response = client.post(
            f"/board/calls/{sid}/attach", json={"customer_id": priya.id}, headers=desk
        )
        assert response.status_code == 409
    assert anna.id != priya.id
