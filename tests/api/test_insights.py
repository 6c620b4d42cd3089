"""GET /api/insights, checked against a data set built by hand at known times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callerid.db import utcnow

from ..factories import add_call, add_customer

WINDOW = "since=2026-01-05&until=2026-01-08"


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, minute, second, tzinfo=UTC)


def shown(received: datetime, ms: int) -> dict:
    return {"card_shown_at": received + timedelta(milliseconds=ms)}


@pytest.fixture
def known(session):
    anna = add_customer(session, "Anna Moors", numbers=("+14155550134",))
    bob = add_customer(session, "Bob Lee", numbers=("+13125550188",))
    add_call(session, anna, at=at(1, 10))  # before the window: Anna is a returning caller
    missed = {"status": "no-answer", "is_missed": True}
    add_call(session, anna, at=at(5, 9, 10), **shown(at(5, 9, 10), 100))
    add_call(session, bob, at=at(5, 9, 50), **shown(at(5, 9, 50), 200))
    add_call(session, bob, at=at(5, 14, 5), **missed, **shown(at(5, 14, 5), 300))
    add_call(
        session,
        None,
        from_number="+12125550100",
        at=at(6, 14, 30),
        called_back_at=at(6, 15),
        **missed,
        **shown(at(6, 14, 30), 400),
    )
    withheld = add_call(session, None, at=at(6, 23, 59, 59), caller_kind="withheld", **missed)
    withheld.from_number = None
    add_call(session, anna, at=at(7, 0), **shown(at(7, 0), 2000))
    add_call(session, anna, at=at(8, 0))  # until is exclusive
    add_call(session, anna, at=at(6, 12), direction="outbound-api")  # not an inbound call
    session.commit()
    return anna, bob


def test_totals_rates_and_missed_counts_match_the_data(client, manager, known):
    body = client.get(f"/api/insights?{WINDOW}", headers=manager).get_json()
    assert (body["since"], body["until"], body["tz"]) == (
        "2026-01-05T00:00:00Z",
        "2026-01-08T00:00:00Z",
        "UTC",
    )
    assert body["total_calls"] == 6
    assert (body["answered"], body["answer_rate"]) == (3, 0.5)
    assert (body["returning"], body["returning_share"]) == (3, 0.5)
    # Callers waiting, as /missed and the badge count them: Bob; the withheld caller cannot be
    # called back, and the stranger was.
    assert (body["missed"], body["missed_not_called_back"]) == (3, 1)


def test_calls_are_counted_per_day_and_per_hour(client, manager, known):
    body = client.get(f"/api/insights?{WINDOW}", headers=manager).get_json()
    counts = ("date", "calls", "answered", "missed")  # tests/history/test_outreach.py: the rest
    assert [{key: day[key] for key in counts} for day in body["per_day"]] == [
        {"date": "2026-01-05", "calls": 3, "answered": 2, "missed": 1},
        {"date": "2026-01-06", "calls": 2, "answered": 0, "missed": 2},
        {"date": "2026-01-07", "calls": 1, "answered": 1, "missed": 0},
    ]
    hours = {h["hour"]: h["calls"] for h in body["per_hour"] if h["calls"]}
    assert hours == {0: 1, 9: 2, 14: 2, 23: 1}
    assert [h["hour"] for h in body["per_hour"]] == list(range(24))


def test_top_callers_and_screen_pop_percentiles(client, manager, known):
    anna, bob = known
    body = client.get(f"/api/insights?{WINDOW}", headers=manager).get_json()
    assert body["top_callers"] == [
        {"customer_id": anna.id, "name": "Anna Moors", "calls": 2},
        {"customer_id": bob.id, "name": "Bob Lee", "calls": 2},
    ]
    # 100, 200, 300, 400, 2000 ms: median the middle one; p95 at rank 3.8 of 0..4.
    assert body["screen_pop_ms"] == {"count": 5, "median": 300.0, "p95": 1680.0}


def test_days_and_hours_follow_the_time_zone_asked_for(client, manager, known):
    query = "since=2026-01-05T00:00:00Z&until=2026-01-08T00:00:00Z&tz=Asia/Kolkata"
    body = client.get(f"/api/insights?{query}", headers=manager).get_json()
    assert body["tz"] == "Asia/Kolkata"
    assert [(d["date"], d["calls"]) for d in body["per_day"]] == [
        ("2026-01-05", 3),
        ("2026-01-06", 1),
        ("2026-01-07", 2),
        ("2026-01-08", 0),
    ]
    hours = {h["hour"]: h["calls"] for h in body["per_hour"] if h["calls"]}
    assert hours == {5: 2, 14: 1, 15: 1, 19: 1, 20: 1}


def test_dates_without_an_offset_are_read_in_the_time_zone(client, manager, known):
    body = client.get(f"/api/insights?{WINDOW}&tz=America/New_York", headers=manager).get_json()
    assert (body["since"], body["until"]) == ("2026-01-05T05:00:00Z", "2026-01-08T05:00:00Z")


def test_without_a_window_the_last_thirty_days_count(client, session, manager):
    add_call(session, None, at=utcnow() - timedelta(days=1))
    add_call(session, None, at=utcnow() - timedelta(days=45))
    body = client.get("/api/insights", headers=manager).get_json()
    assert len(body["per_day"]) == 30
    assert body["per_day"][-1]["date"] == utcnow().date().isoformat()
    assert body["total_calls"] == 1
    assert body["screen_pop_ms"] == {"count": 0, "median": None, "p95": None}
    assert body["answer_rate"] == 1.0


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("tz=Mars/Olympus", "tz must be an IANA time zone"),
        ("since=2026-01-08&until=2026-01-05", "since must come before until"),
        ("since=soon", "since must be an ISO 8601 date"),
        ("since=2020-01-01&until=2026-01-01", "Ask for at most"),
    ],
)
def test_a_bad_window_is_a_bad_request(client, manager, query, message):
    response = client.get(f"/api/insights?{query}", headers=manager)
    assert response.status_code == 400
    assert message in response.get_json()["error"]["message"]
