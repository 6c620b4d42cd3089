"""GET /api/calls: the call log with filters and pages."""

from __future__ import annotations

from datetime import timedelta

import pytest

from callerid.db import utcnow

from ..factories import add_call, add_customer, add_user, token_for


@pytest.fixture
def headers(session) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(session, add_user(session))}"}


def test_calls_come_newest_first_with_customer_and_line(client, session, headers):
    anna = add_customer(session, "Anna Moors")
    older = add_call(session, anna, at=utcnow() - timedelta(days=3))
    newer = add_call(session, None, at=utcnow() - timedelta(hours=1), from_number="+13125550187")
    body = client.get("/api/calls", headers=headers).get_json()
    assert [c["call_sid"] for c in body["calls"]] == [newer.call_sid, older.call_sid]
    assert body["calls"][1]["customer"] == {"id": anna.id, "name": "Anna Moors"}
    assert body["calls"][0]["line"]["number"] == "+12025550143"
    assert body["next"] is None


def test_filters_by_customer_status_and_time(client, session, headers):
    anna = add_customer(session, "Anna Moors")
    missed = add_call(session, anna, status="no-answer", is_missed=True)
    add_call(session, anna, at=utcnow() - timedelta(days=10))
    add_call(session, None, from_number="+13125550187")

    def sids(query: str) -> list[str]:
        return [
            c["call_sid"]
            for c in client.get(f"/api/calls?{query}", headers=headers).get_json()["calls"]
        ]

    assert sids("status=missed") == [missed.call_sid]
    assert len(sids(f"customer_id={anna.id}")) == 2
    since = (utcnow() - timedelta(days=5)).date().isoformat()
    assert missed.call_sid in sids(f"since={since}") and len(sids(f"since={since}")) == 2


def test_pages_follow_each_other_without_repeats(client, session, headers):
    made = [add_call(session, None, at=utcnow() - timedelta(minutes=n)) for n in range(7)]
    seen, url = [], "/api/calls?limit=3"
    while url:
        body = client.get(url, headers=headers).get_json()
        seen += [c["call_sid"] for c in body["calls"]]
        url = body["next"]
    assert seen == [c.call_sid for c in made]


def test_the_next_link_stays_on_this_site_whatever_the_query_says(client, session, headers):
    for n in range(2):
        add_call(session, None, at=utcnow() - timedelta(minutes=n))
    query = "/api/calls?limit=1&_external=1&_scheme=https&_anchor=x"
    link = client.get(query, headers=headers).get_json()["next"]
    assert link.startswith("/api/calls?") and "_" not in link.split("?")[1].split("cursor")[0]
    assert "#" not in link and "limit=1" in link


@pytest.mark.parametrize(
    "query", ["since=yesterday", "customer_id=abc", "limit=-1", "cursor=not-a-cursor"]
)
def test_bad_filters_are_reported(client, headers, query):
    response = client.get(f"/api/calls?{query}", headers=headers)
    assert response.status_code == 400
    assert response.get_json()["error"]["message"]
