"""GET /api/missed/count, and the call.called_back event that keeps every screen's count right."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from callerid.db import utcnow
from callerid.models import Event

from ..factories import add_call, add_customer


def missed(session, customer=None, **fields):
    return add_call(session, customer, status="no-answer", is_missed=True, **fields)


def count(client, headers) -> int:
    response = client.get("/api/missed/count", headers=headers)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_json()["open"]


def test_the_count_is_of_open_missed_calls_of_the_last_thirty_days(client, session, staff):
    anna = add_customer(session, "Anna Moors")
    missed(session, anna)
    missed(session, anna, at=utcnow() - timedelta(hours=3))
    missed(session, from_number="+13125550187")
    missed(session, at=utcnow() - timedelta(days=40))  # too old to be on the list
    done = missed(session, from_number="+12125550100")
    done.called_back_at, done.called_back_by = utcnow(), "desk"
    add_call(session, anna)  # answered
    session.commit()
    assert count(client, staff) == 3


def test_anonymous_clients_get_401(client):
    assert client.get("/api/missed/count").status_code == 401


def test_calling_back_tells_the_screens_and_lowers_the_count(client, session, staff):
    anna = add_customer(session, "Anna Moors")
    missed(session, anna, at=utcnow() - timedelta(hours=2))
    latest = missed(session, anna, at=utcnow() - timedelta(minutes=1))
    assert count(client, staff) == 2
    client.post(f"/api/missed/{latest.call_sid}/called-back", headers=staff)
    assert count(client, staff) == 0
    event = session.scalars(select(Event).order_by(Event.id.desc())).first()
    assert event.kind == "call.called_back"
    data = json.loads(event.data)
    assert (data["call_sid"], data["called_back_by"], data["marked"]) == (
        latest.call_sid,
        "desk",
        2,
    )


def test_calling_back_twice_announces_once(client, session, staff):
    call = missed(session)
    url = f"/api/missed/{call.call_sid}/called-back"
    client.post(url, headers=staff)
    client.post(url, headers=staff)
    kinds = session.scalars(select(Event.kind).where(Event.kind == "call.called_back")).all()
    assert kinds == ["call.called_back"]


def test_the_count_says_callers_and_calls_and_leaves_out_withheld_ones(client, session, staff):
    anna = add_customer(session, "Anna Moors")
    missed(session, anna)
    missed(session, anna, at=utcnow() - timedelta(hours=3))
    missed(session, from_number="+13125550187")
    withheld = missed(session, caller_kind="withheld")
    withheld.from_number, withheld.raw_from = None, "anonymous"
    session.commit()
    body = client.get("/api/missed/count", headers=staff).get_json()
    # Two callers to call back (the list's rows and the badge), three calls; "open" is the old
    # name of open_calls, kept for a release.
    assert body == {"open_callers": 2, "open_calls": 3, "open": 3}


def test_called_back_can_be_undone_and_the_caller_waits_again(client, session, staff):
    anna = add_customer(session, "Anna Moors")
    older = missed(session, anna, at=utcnow() - timedelta(hours=30))
    newer = missed(session, anna, at=utcnow() - timedelta(hours=3))
    session.commit()
    client.post(f"/api/missed/{newer.call_sid}/called-back", headers=staff)
    assert count(client, staff) == 0
    response = client.post(f"/api/missed/{newer.call_sid}/called-back/undo", headers=staff)
    assert response.get_json() == {"call_sid": newer.call_sid, "reopened": 2}
    assert count(client, staff) == 2
    event = session.scalars(select(Event).order_by(Event.id.desc())).first()
    assert event.kind == "call.called_back"  # the board refetches its count on it
    assert json.loads(event.data)["undone"] is True
    again = client.post(f"/api/missed/{older.call_sid}/called-back/undo", headers=staff)
    assert again.status_code == 409
