"""GET /api/calls and its CSV: the date range in a time zone, line, status, new or returning
caller, outcome and who answered; the same reading everywhere, and 400 for what cannot be read."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from callerid.db import utcnow
from callerid.history import insights
from callerid.history.retention import ANONYMISED, anonymise_calls
from callerid.models import Call

from ..factories import add_call, add_customer

DAY = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def log(session):
    anna = add_customer(session, "Anna Moors")
    ben = add_customer(session, "Ben Okafor", numbers=("+14155550177",))
    made = {
        "anna_first": add_call(session, anna, at=DAY - timedelta(days=2), answered_by="desk"),
        "anna_again": add_call(session, anna, at=DAY, answered_by="boss", outcome="booking"),
        "anna_missed": add_call(
            session, anna, at=DAY + timedelta(hours=2), status="no-answer", is_missed=True
        ),
        "ben": add_call(
            session,
            ben,
            at=DAY + timedelta(hours=1),
            answered_by="desk",
            outcome="question",
            line="+12025550144",
        ),
        "stranger": add_call(
            session,
            None,
            from_number="+13125550187",
            at=DAY + timedelta(hours=3),
            status="busy",
            is_missed=True,
        ),
        "stranger_again": add_call(
            session, None, from_number="+13125550187", at=DAY + timedelta(hours=4)
        ),
        "withheld": add_call(
            session, None, at=DAY + timedelta(hours=5), caller_kind="withheld", outcome="other"
        ),
    }
    made["withheld"].from_number, made["withheld"].raw_from = None, "anonymous"
    session.commit()
    return made


def sids(client, headers, query: str) -> list[str]:
    found, url = [], f"/api/calls?{query}&limit=2"
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.get_json()
        found += [call["call_sid"] for call in response.get_json()["calls"]]
        url = response.get_json()["next"]
    return found


def named(log, *names: str) -> list[str]:
    return [log[name].call_sid for name in names]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=missed", ("stranger", "anna_missed")),
        ("status=answered", ("withheld", "stranger_again", "ben", "anna_again", "anna_first")),
        ("status=no-answer", ("anna_missed",)),
        ("caller=returning", ("anna_missed", "anna_again")),
        # A stranger calling twice is still new: only customers come back, as insights counts.
        ("caller=new", ("stranger_again", "stranger", "ben", "anna_first")),
        ("caller=unknown", ("withheld",)),
        ("outcome=booking", ("anna_again",)),
        ("outcome=none", ("stranger_again", "stranger", "anna_missed", "anna_first")),
        ("answered_by=desk", ("ben", "anna_first")),
        ("answered_by=nobody", ()),
        ("caller=returning&status=answered", ("anna_again",)),
        (
            "since=2026-03-10&until=2026-03-11",
            (
                "withheld",
                "stranger_again",
                "stranger",
                "anna_missed",
                "ben",
                "anna_again",
            ),
        ),
    ],
)
def test_each_filter_keeps_only_the_calls_it_names(client, staff, log, query, expected):
    assert sids(client, staff, query) == named(log, *expected)


def test_line_filter(client, staff, log):
    assert sids(client, staff, f"line_id={log['ben'].line_id}") == named(log, "ben")


def test_every_call_says_whether_its_caller_is_new_returning_or_unknown(client, staff, log):
    calls = client.get("/api/calls", headers=staff).get_json()["calls"]
    kinds = {call["call_sid"]: call["caller"] for call in calls}
    assert kinds[log["anna_first"].call_sid] == "new"
    assert kinds[log["anna_again"].call_sid] == "returning"
    assert kinds[log["stranger_again"].call_sid] == "new"
    assert kinds[log["withheld"].call_sid] == "unknown"


def test_dates_are_read_in_the_zone_given(client, staff, session):
    # 20:30 on the 9th in New York is 01:30 on the 10th in UTC.
    evening = add_call(session, None, at=datetime(2026, 3, 10, 1, 30, tzinfo=UTC))
    assert sids(client, staff, "since=2026-03-10&until=2026-03-11") == [evening.call_sid]
    ny = "since=2026-03-09&until=2026-03-10&tz=America/New_York"
    assert sids(client, staff, ny) == [evening.call_sid]
    assert sids(client, staff, "since=2026-03-10&tz=America/New_York") == []
    # A time with its own offset keeps it, whatever tz says.
    exact = "since=2026-03-10T01:30:00%2B00:00&tz=Asia/Tokyo"
    assert sids(client, staff, exact) == [evening.call_sid]


def test_returning_calls_are_the_ones_insights_counts_also_after_anonymising(
    client, staff, session, log
):
    old = Call.received_at < DAY + timedelta(minutes=90)
    anonymise_calls(session, old)
    session.commit()
    assert session.scalar(select(Call.caller_kind).where(Call.id == log["anna_again"].id)) == (
        ANONYMISED
    )
    since, until = DAY - timedelta(days=5), DAY + timedelta(days=1)
    found = insights.summarise(session, since, until, ZoneInfo("UTC"))
    window = f"since={since.date().isoformat()}&until={until.date().isoformat()}"
    returning = sids(client, staff, f"{window}&caller=returning")
    # anna_again kept its mark; anna_missed lost the earlier calls it came back after, for both.
    assert returning == named(log, "anna_again")
    assert len(returning) == found.returning
    everyone = sum(
        len(sids(client, staff, f"{window}&caller={c}")) for c in ("new", "returning", "unknown")
    )
    assert everyone == found.calls == len(log), "new, returning and unknown split every call"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=lost", "status must be one of missed, answered"),
        ("caller=vip", "caller must be one of new, returning, unknown"),
        ("outcome=sale", "outcome must be one of booking, question, complaint, other, none"),
        ("tz=Mars/Olympus", "tz must be an IANA time zone"),
        ("until=soon", "until must be an ISO 8601 date"),
        ("since=2026-03-11&until=2026-03-10", "since must come before until"),
        ("line_id=-2", "line_id must be a whole number"),
    ],
)
@pytest.mark.parametrize("path", ["/api/calls", "/api/calls.csv"])
def test_filters_that_cannot_be_read_are_refused_the_same_way_by_list_and_csv(
    client, manager, path, query, message
):
    response = client.get(f"{path}?{query}", headers=manager)
    assert response.status_code == 400
    assert message in response.get_json()["error"]["message"]


@pytest.mark.parametrize(
    "query",
    [
        "caller=returning",
        "caller=new&status=missed",
        "outcome=none&tz=Europe/Berlin&since=2026-03-09",
        "answered_by=desk",
        "since=2026-03-10T00:00:00&until=2026-03-10T20:00:00&tz=Asia/Kolkata",
    ],
)
def test_the_csv_has_the_rows_and_caller_of_the_filtered_log(client, manager, log, query):
    listed = []
    url = f"/api/calls?{query}&limit=2"
    while url:
        body = client.get(url, headers=manager).get_json()
        listed += [(call["call_sid"], call["caller"]) for call in body["calls"]]
        url = body["next"]
    text = client.get(f"/api/calls.csv?{query}", headers=manager).get_data(as_text=True)
    rows = [(row["call_sid"], row["caller"]) for row in csv.DictReader(io.StringIO(text))]
    assert rows == listed and rows


def test_the_export_is_audited_with_every_filter_used(client, manager, session, log):
    from callerid.models import AuditEntry

    client.get("/api/calls.csv?caller=new&outcome=none&answered_by=desk&tz=UTC", headers=manager)
    entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.detail == "caller=new&outcome=none&answered_by=desk&tz=UTC"


def test_recent_calls_are_found_with_the_default_window(client, staff, session):
    call = add_call(session, None, at=utcnow())
    assert sids(client, staff, "caller=new") == [call.call_sid]
