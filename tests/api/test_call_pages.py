"""GET /api/calls pages: every call exactly once, even while new calls keep arriving, with or
without filters."""

from __future__ import annotations

from datetime import timedelta

import pytest

from callerid.db import utcnow

from ..factories import add_call, add_customer

# Each filter, with the fields of a call it keeps and of one it drops.
FILTERS = {
    "": ({}, None),
    "status=missed": ({"status": "no-answer", "is_missed": True}, {}),
    "status=answered": ({}, {"status": "no-answer", "is_missed": True}),
    "outcome=complaint": ({"outcome": "complaint"}, {"outcome": "booking"}),
    "outcome=none": ({}, {"outcome": "other"}),
    "answered_by=desk": ({"answered_by": "desk"}, {"answered_by": "boss"}),
    "caller=new&answered_by=desk": ({"answered_by": "desk"}, {"answered_by": ""}),
    "line_id=1": ({}, {"line": "+12025550144"}),
    "tz=Europe/Berlin&since=2020-01-01": ({}, None),
}


@pytest.mark.parametrize("query", FILTERS)
def test_each_call_comes_once_across_pages_while_new_calls_arrive(client, session, staff, query):
    kept, dropped = FILTERS[query]
    start = utcnow() - timedelta(hours=1)
    # Three calls share a second, so a page boundary falls between equal times.
    times = [start - timedelta(minutes=m) for m in (0, 1, 2, 2, 2, 3, 4, 5, 6, 7)]
    existing = {add_call(session, None, at=at, **kept).call_sid for at in times}
    if dropped is not None:
        for at in times[::3]:
            add_call(session, None, at=at, **dropped)
    seen: list[str] = []
    arrived: set[str] = set()
    url = f"/api/calls?{query}&limit=3"
    while url:
        body = client.get(url, headers=staff).get_json()
        seen += [call["call_sid"] for call in body["calls"]]
        url = body["next"]
        # Between two pages: a call rings now, and another at a time already paged past.
        arrived.add(add_call(session, None, at=utcnow(), **kept).call_sid)
        arrived.add(add_call(session, None, at=start - timedelta(minutes=2), **kept).call_sid)
    assert len(seen) == len(set(seen)), "no call may come twice"
    assert existing <= set(seen), "every call that was there at the start must come"
    assert set(seen) <= existing | arrived


def test_returning_callers_page_exactly_too(client, session, staff):
    anna = add_customer(session, "Anna Moors")
    start = utcnow() - timedelta(hours=1)
    first = add_call(session, anna, at=start - timedelta(days=1))
    again = [add_call(session, anna, at=start - timedelta(minutes=m)) for m in (0, 1, 1, 1, 2, 3)]
    seen, url = [], "/api/calls?caller=returning&limit=2"
    while url:
        body = client.get(url, headers=staff).get_json()
        seen += [call["call_sid"] for call in body["calls"]]
        url = body["next"]
        add_call(session, anna, at=start - timedelta(minutes=1))  # returning, already paged past
    assert first.call_sid not in seen
    assert sorted(seen) == sorted(c.call_sid for c in again)
