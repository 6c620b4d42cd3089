"""GET /api/calls pages: every call exactly once, even while new calls keep arriving."""

from __future__ import annotations

from datetime import timedelta

from callerid.db import utcnow

from ..factories import add_call


def test_each_call_comes_once_across_pages_while_new_calls_arrive(client, session, staff):
    start = utcnow() - timedelta(hours=1)
    # Three calls share a second, so a page boundary falls between equal times.
    times = [start - timedelta(minutes=m) for m in (0, 1, 2, 2, 2, 3, 4, 5, 6, 7)]
    existing = {add_call(session, None, at=at).call_sid for at in times}
    seen: list[str] = []
    arrived: set[str] = set()
    url = "/api/calls?limit=3"
    while url:
        body = client.get(url, headers=staff).get_json()
        seen += [call["call_sid"] for call in body["calls"]]
        url = body["next"]
        # Between two pages: a call rings now, and another at a time already paged past.
        arrived.add(add_call(session, None, at=utcnow()).call_sid)
        arrived.add(add_call(session, None, at=start - timedelta(minutes=2)).call_sid)
    assert len(seen) == len(set(seen)), "no call may come twice"
    assert existing <= set(seen), "every call that was there at the start must come"
    assert set(seen) <= existing | arrived
