"""Insights on reaching back to missed callers (``history.outreach``): missed calls called back
and the median time to do it, texts sent, delivered, failed and opted out, per day in the
business's zone; in GET /api/insights and on the insights page.

The data set is built by hand in New York time (UTC-5 in January), with rows on both sides of
local midnight, so a day counted in UTC would give other figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callerid.models import Call, Callback, OptOut, TextSent

from ..factories import add_call, add_user, token_for
from .conftest import log_in

ZONE = "America/New_York"
ANNA, BOB, CARA, DAN = "+14155550134", "+13125550188", "+12125550155", "+16175550123"


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC)


def missed(session, number: str, received: datetime, marked: datetime | None = None) -> Call:
    """A missed call from ``number``, ended two minutes after it came in."""
    by = "Sam" if marked else ""
    return add_call(session, None, from_number=number, at=received, status="no-answer",
                    is_missed=True, called_back_at=marked, called_back_by=by)  # fmt: skip


def answered_callback(session, number: str, answered: datetime, call: Call | None = None) -> None:
    session.add(Callback(number=number, line="+12025550143", by="Sam", status="ended",
                         outcome="talked", call_id=call.id if call else None,
                         started_at=answered - timedelta(seconds=30), answered_at=answered,
                         ended_at=answered + timedelta(minutes=3)))  # fmt: skip


@pytest.fixture
def known(session):
    # Monday 5 January, local: returned after 600 s and 1,200 s (median 900); one never.
    missed(session, ANNA, utc(5, 15), marked=utc(5, 15, 12))
    missed(session, BOB, utc(6, 4, 30), marked=utc(6, 5, 30))  # 23:30 local, on the 5th
    answered_callback(session, BOB, utc(6, 4, 52))  # answered before the mark: it counts
    missed(session, DAN, utc(5, 16))
    # Tuesday 6 January: 300 s (a call-back placed from the call), 120 s, 3,600 s: median 300.
    first = missed(session, CARA, utc(6, 14))
    answered_callback(session, CARA, utc(6, 14, 7), call=first)
    answered_callback(session, ANNA, utc(6, 17))  # before Anna's next missed call: not hers
    missed(session, ANNA, utc(6, 18), marked=utc(6, 18, 12))
    answered_callback(session, ANNA, utc(6, 18, 4))
    missed(session, BOB, utc(6, 20), marked=utc(6, 21, 2))
    # Sunday 4 January, local (04:00 UTC on the 5th): outside the window.
    missed(session, ANNA, utc(5, 4), marked=utc(5, 4, 10))
    text = {"number": ANNA, "due_at": utc(5, 0)}
    session.add_all([
        TextSent(sent_at=utc(5, 20), status="delivered", **text),
        TextSent(sent_at=utc(6, 3), status="undelivered", error_code=30034, **text),  # the 5th
        TextSent(sent_at=utc(6, 15), status="delivered", **text),
        TextSent(status="failed", error_code=21610, updated_at=utc(6, 16), **text),  # refused
        TextSent(status="scheduled", **text),
        TextSent(sent_at=utc(7, 6), status="delivered", **text),  # 01:00 on the 7th: outside
        OptOut(number=ANNA, opted_out_at=utc(6, 2)),  # 21:00 on the 5th
        OptOut(number=BOB, opted_out_at=utc(6, 12)),
        OptOut(number=CARA, opted_out_at=utc(4, 12)),  # outside
    ])  # fmt: skip
    session.commit()


NOTHING = dict.fromkeys(
    ("called_back", "texts_sent", "texts_delivered", "texts_failed", "opted_out"), 0
) | {"call_back_median_seconds": None}


def test_the_api_counts_call_backs_and_texts_per_local_day(client, session, known):
    manager = {"Authorization": f"Bearer {_token(session)}"}
    body = client.get(
        f"/api/insights?since=2026-01-05&until=2026-01-07&tz={ZONE}", headers=manager
    ).get_json()
    assert (body["total_calls"], body["missed"]) == (6, 6)  # call-backs are no calls
    assert {key: body[key] for key in NOTHING} == {
        "called_back": 5,
        "call_back_median_seconds": 600.0,
        "texts_sent": 3,
        "texts_delivered": 2,
        "texts_failed": 2,
        "opted_out": 2,
    }
    days = [{key: day[key] for key in ("date", *NOTHING)} for day in body["per_day"]]
    assert days == [
        {"date": "2026-01-05", "called_back": 2, "call_back_median_seconds": 900.0,
         "texts_sent": 2, "texts_delivered": 1, "texts_failed": 1, "opted_out": 1},
        {"date": "2026-01-06", "called_back": 3, "call_back_median_seconds": 300.0,
         "texts_sent": 1, "texts_delivered": 1, "texts_failed": 1, "opted_out": 1},
    ]  # fmt: skip


def test_a_period_without_any_says_none(client, session, known):
    manager = {"Authorization": f"Bearer {_token(session)}"}
    body = client.get("/api/insights?since=2026-02-01&until=2026-02-02", headers=manager)
    assert {key: body.get_json()[key] for key in NOTHING} == NOTHING


def test_the_dashboard_shows_them_in_words(client, session, known):
    add_user(session, "Maria", role="manager")
    log_in(client, "Maria")
    page = client.get(f"/insights?period=custom&from=2026-01-05&to=2026-01-06&tz={ZONE}")
    text = page.get_data(as_text=True)
    panel = text[text.index('id="outreach"') :]
    assert '<dd class="stat__value">5</dd>' in panel  # called back
    assert '<dd class="stat__value">10 min</dd>' in panel  # the median, 600 s
    assert "2 delivered · 2 failed" in panel
    row = panel[panel.index('data-day="2026-01-05"') :]
    cells = row[: row.index("</tr>")]
    assert '>2</td><td class="num">15 min</td><td class="num">2</td>' in cells


def _token(session) -> str:
    return token_for(session, add_user(session, "boss", "manager"))
