"""GET /api/calls.csv: the filtered call log as CSV, streamed, the same rows as GET /api/calls."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from callerid.api import export
from callerid.db import utcnow
from callerid.models import AuditEntry

from ..factories import add_call, add_customer


@pytest.fixture
def log(session):
    anna = add_customer(session, "Anna Moors")
    now = utcnow()
    for hours in range(1, 8):
        add_call(session, anna, at=now - timedelta(hours=hours), outcome="booking")
    for hours in (2, 5, 9):
        add_call(session, None, at=now - timedelta(hours=hours), status="no-answer", is_missed=True)
    add_call(session, anna, at=now - timedelta(days=9))
    return anna


def json_pages(client, headers, query: str) -> list[dict]:
    """Every call GET /api/calls returns for ``query``, following its pages."""
    found, url = [], f"/api/calls?{query}&limit=3"
    while url:
        body = client.get(url, headers=headers).get_json()
        found += body["calls"]
        url = body["next"]
    return found


def flattened(call: dict) -> dict[str, str]:
    line, customer = call.pop("line") or {}, call.pop("customer") or {}
    call.update(
        line_number=line.get("number"),
        line_label=line.get("label"),
        customer_id=customer.get("id"),
        customer_name=customer.get("name"),
    )
    return {key: export._cell(value) for key, value in call.items()}


@pytest.mark.parametrize(
    "query",
    [
        "",
        "status=missed",
        "status=answered",
        "customer_id={anna}",
        "since={since}&status=completed",
    ],
)
def test_the_csv_has_exactly_the_rows_of_the_filtered_call_log(
    client, manager, log, monkeypatch, query
):
    monkeypatch.setattr(export, "CHUNK", 2)  # several chunks, as a long log would have
    since = (utcnow() - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    query = query.format(anna=log.id, since=since)
    response = client.get(f"/api/calls.csv?{query}", headers=manager)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="calls.csv"'
    assert response.is_streamed
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert rows == [flattened(call) for call in json_pages(client, manager, query)]
    assert rows, "the filter should match something"


def test_the_csv_starts_with_a_header_row_even_when_nothing_matches(client, manager):
    text = client.get("/api/calls.csv?status=busy", headers=manager).get_data(as_text=True)
    assert text.splitlines() == [",".join(export.COLUMNS)]


def test_each_export_is_audited_with_its_filters(client, session, manager):
    client.get("/api/calls.csv?status=missed&customer_id=7", headers=manager).get_data()
    entry = session.scalar(select(AuditEntry))
    assert (entry.actor, entry.action, entry.target) == ("boss", "export", "calls")
    assert entry.detail == "customer_id=7&status=missed"


def test_text_that_a_spreadsheet_would_run_is_defused_but_numbers_are_kept(
    client, session, manager
):
    add_call(session, add_customer(session, '=HYPERLINK("http://x")', numbers=("+14155550134",)))
    (row,) = csv.DictReader(
        io.StringIO(client.get("/api/calls.csv", headers=manager).get_data(as_text=True))
    )
    assert row["customer_name"] == '\'=HYPERLINK("http://x")'
    assert row["from"] == "+14155550134"


def test_a_malformed_filter_is_a_bad_request_before_anything_is_sent(client, session, manager):
    response = client.get("/api/calls.csv?since=yesterday", headers=manager)
    assert response.status_code == 400
    assert session.scalar(select(AuditEntry)) is None
