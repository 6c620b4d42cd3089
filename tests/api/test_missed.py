"""GET /api/missed and POST /api/missed/<call_sid>/called-back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from callerid.db import utcnow
from callerid.models import Call

from ..factories import add_call, add_customer

STRANGER = "+13125550187"


def missed(session, customer=None, *, hours: float, **fields):
    return add_call(
        session,
        customer,
        at=utcnow() - timedelta(hours=hours),
        status="no-answer",
        is_missed=True,
        **fields,
    )


@pytest.fixture
def calls(session):
    anna = add_customer(session, "Anna Moors", numbers=("+14155550134", "+14155550135"))
    made = {
        "anna_old": missed(session, anna, hours=5),
        "anna_new": missed(session, anna, hours=1, from_number="+14155550135"),
        "stranger_old": missed(session, from_number=STRANGER, hours=4),
        "stranger_new": missed(session, from_number=STRANGER, hours=3),
        "withheld_1": missed(session, from_number="", hours=2, caller_kind="withheld"),
        "withheld_2": missed(session, from_number="", hours=6, caller_kind="withheld"),
    }
    for call in ("withheld_1", "withheld_2"):
        made[call].from_number = None
        made[call].raw_from = "anonymous"
    add_call(session, anna, at=utcnow() - timedelta(minutes=30))  # answered: nothing to return
    done = missed(session, from_number="+12125550100", hours=1)
    done.called_back_at, done.called_back_by = utcnow(), "desk"
    session.commit()
    return anna, made


def test_open_missed_calls_are_grouped_per_caller_latest_first(client, staff, calls):
    anna, made = calls
    groups = client.get("/api/missed", headers=staff).get_json()["groups"]
    summary = [(g["caller"], g["count"], g["call_sid"]) for g in groups]
    # Withheld callers cannot be called back: they are not waiting (issue 12).
    assert summary == [
        (f"customer:{anna.id}", 2, made["anna_new"].call_sid),
        (f"number:{STRANGER}", 2, made["stranger_new"].call_sid),
    ]
    assert groups[0]["customer"] == {"id": anna.id, "name": "Anna Moors"}
    assert groups[0]["number"] == "+14155550135"
    assert groups[1]["display"] == "(312) 555-0187"
    assert groups[1]["last_missed_at"] > groups[1]["first_missed_at"]


def test_calling_back_marks_the_callers_other_open_missed_calls_too(client, session, staff, calls):
    anna, made = calls
    response = client.post(f"/api/missed/{made['anna_new'].call_sid}/called-back", headers=staff)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["called_back_by"], body["marked"]) == ("desk", 2)
    session.expire_all()
    both = session.scalars(select(Call).where(Call.customer_id == anna.id, Call.is_missed)).all()
    assert {(c.called_back_by, c.called_back_at is not None) for c in both} == {("desk", True)}
    callers = [g["caller"] for g in client.get("/api/missed", headers=staff).get_json()["groups"]]
    assert f"customer:{anna.id}" not in callers


def test_calling_back_again_changes_nothing(client, session, staff, manager, calls):
    _, made = calls
    url = f"/api/missed/{made['stranger_new'].call_sid}/called-back"
    first = client.post(url, headers=staff).get_json()
    again = client.post(url, headers=manager).get_json()
    assert again["marked"] == 0
    assert (again["called_back_at"], again["called_back_by"]) == (
        first["called_back_at"],
        first["called_back_by"],
    )


def test_a_missed_call_newer_than_the_one_returned_stays_open(client, session, staff, calls):
    _, made = calls
    client.post(f"/api/missed/{made['stranger_old'].call_sid}/called-back", headers=staff)
    session.expire_all()
    assert session.get(Call, made["stranger_new"].id).called_back_at is None


def test_returning_a_withheld_call_marks_only_that_call(client, session, staff, calls):
    _, made = calls
    body = client.post(
        f"/api/missed/{made['withheld_1'].call_sid}/called-back", headers=staff
    ).get_json()
    assert body["marked"] == 1
    session.expire_all()
    assert session.get(Call, made["withheld_2"].id).called_back_at is None


def test_an_answered_call_cannot_be_called_back_and_an_unknown_one_is_not_found(
    client, session, staff
):
    answered = add_call(session, None)
    response = client.post(f"/api/missed/{answered.call_sid}/called-back", headers=staff)
    assert response.status_code == 409
    assert client.post("/api/missed/CAnope/called-back", headers=staff).status_code == 404
