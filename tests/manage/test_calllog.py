"""GET /calls (managers): the call log page, its filters, pages and the CSV behind its link."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest

from callerid.db import utcnow
from callerid.models import Note

from ..factories import add_call, add_customer

STRANGER = "+13125550187"


class Table(HTMLParser):
    """The call log table's rows: each row's CallSid and the text of its cells."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.rows: list[tuple[str, list[str]]] = []
        self._cell: list[str] | None = None
        self.links: dict[str, str] = {}
        self._href = ""
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "tr" and found.get("data-call-sid"):
            self.rows.append((found["data-call-sid"] or "", []))
        elif tag == "td" and self.rows:
            self._cell = []
        elif tag == "a":
            self._href = found.get("href") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.rows[-1][1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._href and data.strip():
            self.links[" ".join(data.split())] = self._href
            self._href = ""

    @property
    def sids(self) -> list[str]:
        return [sid for sid, _ in self.rows]


def page(client, query: str = "") -> Table:
    response = client.get(f"/calls?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return Table(response.get_data(as_text=True))


def every_page(client, query: str) -> list[str]:
    """The CallSids of every page, following the "Older" links."""
    sids, url = [], f"/calls?{query}"
    while url:
        table = Table(client.get(url).get_data(as_text=True))
        sids += table.sids
        url = unescape(table.links["Older"]) if "Older" in table.links else None
    return sids


@pytest.fixture
def log(session):
    """Anna (returning), Ben (a customer calling for the first time), a stranger and a withheld
    caller, over two lines; answered by Sam or Maria, with outcomes, and missed calls."""
    now = utcnow()
    anna = add_customer(session, "Anna Moors")
    ben = add_customer(session, "Ben Okafor", numbers=("+14155550177",))
    made = {
        "anna_first": add_call(session, anna, at=now - timedelta(days=3), answered_by="Sam"),
        "anna_again": add_call(
            session,
            anna,
            at=now - timedelta(hours=5),
            answered_by="Maria",
            outcome="booking",
            duration=120,
        ),
        "anna_missed": add_call(
            session, anna, at=now - timedelta(hours=2), status="no-answer", is_missed=True
        ),
        "ben": add_call(
            session,
            ben,
            at=now - timedelta(hours=4),
            answered_by="Sam",
            outcome="complaint",
            line="+12025550144",
        ),
        "stranger": add_call(
            session,
            None,
            from_number=STRANGER,
            at=now - timedelta(hours=3),
            status="busy",
            is_missed=True,
            line="+12025550144",
        ),
        "withheld": add_call(session, None, at=now - timedelta(hours=1), caller_kind="withheld"),
    }
    made["withheld"].from_number, made["withheld"].raw_from = None, "anonymous"
    made["ben"].line.label = "Events"
    session.commit()
    return made


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/calls")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_staff_may_not_see_the_call_log(as_staff):
    assert as_staff.get("/calls").status_code == 403


def test_the_page_lists_calls_newest_first_with_what_a_manager_asks_about(as_manager, log):
    table = page(as_manager, "tz=UTC")
    assert table.sids == [
        log[name].call_sid
        for name in ("withheld", "anna_missed", "stranger", "ben", "anna_again", "anna_first")
    ]
    cells = dict(table.rows)
    anna_again = cells[log["anna_again"].call_sid]
    moment = log["anna_again"].received_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    assert anna_again[:3] == [moment, "Anna Moors", "(415) 555-0134"]
    assert anna_again[4:] == ["Answered", "Returning", "Maria", "2:00", "Booking", "0"]
    assert cells[log["anna_first"].call_sid][5] == "New"
    assert cells[log["ben"].call_sid][3:6] == ["Events", "Answered", "New"]
    assert cells[log["stranger"].call_sid][1:6] == [
        "Not saved",
        "(312) 555-0187",
        "Events",
        "Missed",
        "New",
    ]
    assert cells[log["withheld"].call_sid][2] == "Number withheld"
    assert cells[log["withheld"].call_sid][5] == "Unknown"


def test_times_are_shown_in_the_zone_asked_for(as_manager, session):
    add_call(session, None, at=datetime(2026, 1, 5, 23, 30, tzinfo=UTC))
    table = page(as_manager, "tz=Asia/Tokyo")
    assert table.rows[0][1][0] == "2026-01-06 08:30"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=missed", ["anna_missed", "stranger"]),
        ("status=answered", ["withheld", "ben", "anna_again", "anna_first"]),
        ("status=busy", ["stranger"]),
        ("caller=returning", ["anna_missed", "anna_again"]),
        ("caller=new", ["stranger", "ben", "anna_first"]),
        ("caller=unknown", ["withheld"]),
        ("outcome=booking", ["anna_again"]),
        ("outcome=none", ["withheld", "anna_missed", "stranger", "anna_first"]),
        ("answered_by=Sam", ["ben", "anna_first"]),
        ("line_id={events}", ["stranger", "ben"]),
        ("caller=new&status=missed", ["stranger"]),
    ],
)
def test_each_filter_keeps_only_the_calls_it_names(as_manager, log, query, expected):
    query = query.format(events=log["ben"].line_id)
    assert page(as_manager, query).sids == [log[name].call_sid for name in expected]


def test_the_date_range_is_read_in_the_zone_given(as_manager, session):
    # 23:30 UTC on the 5th is already the 6th in Tokyo (UTC+9).
    late = add_call(session, None, at=datetime(2026, 1, 5, 23, 30, tzinfo=UTC))
    add_call(session, None, at=datetime(2026, 1, 4, 12, 0, tzinfo=UTC))
    assert page(as_manager, "since=2026-01-05&until=2026-01-06&tz=UTC").sids == [late.call_sid]
    assert page(as_manager, "since=2026-01-06&until=2026-01-07&tz=Asia/Tokyo").sids == [
        late.call_sid
    ]
    assert page(as_manager, "since=2026-01-05&until=2026-01-06&tz=Asia/Tokyo").sids == []


def test_the_form_keeps_the_filters_it_was_sent(as_manager, log):
    text = as_manager.get(
        "/calls?status=missed&caller=new&outcome=none&answered_by=Sam&since=2026-01-02&tz=Europe/Berlin"
    ).get_data(as_text=True)
    assert re.search(r'<option value="missed" selected>', text)
    assert re.search(r'<option value="new" selected>', text)
    assert re.search(r'<option value="none" selected>', text)
    assert re.search(r'<option value="Sam" selected>', text)
    assert 'name="since" value="2026-01-02"' in text
    assert 'name="tz" value="Europe/Berlin"' in text
    for name in ("since", "until", "line_id", "status", "caller", "outcome", "answered_by", "tz"):
        field = re.search(
            r'<label class="field">\s*<span class="field__label">[^<]+</span>\s*'
            rf'<(input|select)[^>]*name="{name}"',
            text,
        )
        assert field, f"{name} has a visible label"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=lost", "status must be one of"),
        ("caller=vip", "caller must be one of"),
        ("outcome=sale", "outcome must be one of"),
        ("since=yesterday", "since must be an ISO 8601 date"),
        ("tz=Mars/Olympus", "tz must be an IANA time zone"),
        ("since=2026-02-01&until=2026-01-01", "since must come before until"),
        ("line_id=main", "line_id must be a whole number"),
        ("cursor=nonsense", "start again from the newest calls"),
    ],
)
def test_a_bad_filter_shows_an_error_on_the_page(as_manager, log, query, message):
    response = as_manager.get(f"/calls?{query}")
    assert response.status_code == 400
    text = unescape(response.get_data(as_text=True))
    error = re.search(r'<p class="flash flash--error" role="alert"[^>]*>([^<]+)</p>', text)
    assert error and message in error.group(1)
    assert "data-call-sid" not in text
    assert "<form" in text, "the form stays, to correct the filter"


def test_older_pages_follow_with_every_call_once_while_calls_arrive(as_manager, session):
    start = utcnow() - timedelta(hours=1)
    made = [add_call(session, None, at=start - timedelta(minutes=m)) for m in range(120)]
    first = page(as_manager, "tz=UTC")
    assert first.sids == [c.call_sid for c in made[:50]]
    add_call(session, None, at=utcnow())  # rings while the manager reads the first page
    seen = list(first.sids)
    url = unescape(first.links["Older"])
    while url:
        table = Table(as_manager.get(url).get_data(as_text=True))
        seen += table.sids
        assert "Back to the newest" in table.links
        url = unescape(table.links["Older"]) if "Older" in table.links else None
    assert seen == [c.call_sid for c in made]


@pytest.mark.parametrize(
    "query",
    [
        "tz=UTC",
        "status=missed",
        "caller=returning&tz=Europe/Berlin",
        "outcome=none&answered_by=Sam",
        "since={since}&until={until}&tz=America/New_York",
    ],
)
def test_the_csv_link_exports_exactly_the_rows_of_the_page(as_manager, log, query):
    now = utcnow().astimezone(UTC)
    query = query.format(
        since=(now - timedelta(days=1)).date().isoformat(),
        until=(now + timedelta(days=1)).date().isoformat(),
    )
    table = page(as_manager, query)
    link = unescape(table.links["Download CSV"])
    assert link.startswith("/api/calls.csv?")
    response = as_manager.get(link)
    assert response.status_code == 200
    rows = spreadsheet_rows(response)
    assert [row["call_sid"] for row in rows] == table.sids
    assert table.sids, "the filter should match something"
    shown = dict(table.rows)
    for row in rows:
        cells = shown[row["call_sid"]]
        assert cells[5].lower() in {row["caller"], "unknown"}
        assert (row["answered_by"] or "—") == cells[6].replace("the desk phone", row["answered_by"])


def test_the_csv_link_carries_the_filters_over_several_pages(as_manager, session):
    for m in range(60):
        add_call(
            session, None, at=utcnow() - timedelta(minutes=m), status="no-answer", is_missed=True
        )
    add_call(session, None, at=utcnow() - timedelta(minutes=90))
    sids = every_page(as_manager, "status=missed")
    link = unescape(page(as_manager, "status=missed").links["Download CSV"])
    rows = spreadsheet_rows(as_manager.get(link))
    assert [row["call_sid"] for row in rows] == sids
    assert len(sids) == 60


def test_an_empty_log_says_so(as_manager):
    text = as_manager.get("/calls").get_data(as_text=True)
    assert "No calls match these filters." in text
    assert 'aria-current="page"' in text and ">Call log" in text


def test_customer_text_is_escaped(as_manager, session):
    evil = add_customer(session, "<img src=x onerror=alert(2)>", numbers=("+14155550190",))
    add_call(session, evil, answered_by="<b>Sam</b>")
    text = as_manager.get("/calls").get_data(as_text=True)
    assert "<img src=x" not in text and "&lt;img src=x onerror=alert(2)&gt;" in text
    assert "<b>Sam</b>" not in text


def test_a_call_the_desk_phone_answered_says_so_as_the_board_does(as_manager, session):
    anna = add_customer(session, "Anna Moors")
    call = add_call(session, anna, answered_by="+12025550199")
    row = dict(page(as_manager).rows)[call.call_sid]
    assert "the desk phone" in row and "+12025550199" not in row
    customer_page = as_manager.get(f"/customers/{anna.id}").get_data(as_text=True)
    assert "<dd>the desk phone</dd>" in customer_page


def test_the_table_scrolls_from_the_keyboard_and_long_names_wrap(as_manager, session):
    add_call(session, add_customer(session, "Bartholomew Okonkwo-Harrington " * 4))
    html = as_manager.get("/calls").get_data(as_text=True)
    assert (
        '<div class="table-wrap" tabindex="0" role="region" aria-labelledby="calllog-caption">'
        in html
    )
    assert '<td class="calllog__name">' in html


def spreadsheet_rows(response) -> list[dict[str, str]]:
    """The page's "Download CSV" is for a spreadsheet: it starts with a byte-order mark."""
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_the_page_downloads_a_spreadsheet_in_its_own_time_zone_with_notes(as_manager, session):
    anna = add_customer(session, "Anna Moors")
    call = add_call(session, anna, at=datetime(2026, 11, 20, 23, 30, tzinfo=UTC))
    session.add(Note(call_id=call.id, customer_id=anna.id, body="=HYPERLINK(x)"))
    session.add(Note(call_id=call.id, customer_id=anna.id, body="Table for 4"))
    session.commit()
    table = page(as_manager, "since=2026-11-20&until=2026-11-22&tz=America/New_York")
    response = as_manager.get(unescape(table.links["Download CSV"]))
    [row] = spreadsheet_rows(response)
    assert row["received_at"] == "2026-11-20 18:30:00"  # New York time, as on the page
    assert row["notes"] == "'=HYPERLINK(x)\nTable for 4"  # a formula is defused
    day = utcnow().astimezone(ZoneInfo("America/New_York")).date()
    assert response.headers["Content-Disposition"] == f'attachment; filename="calls-{day}.csv"'
    # Scripts keep what they parse: UTC ISO times, no byte-order mark, calls.csv.
    plain = as_manager.get("/api/calls.csv?since=2026-11-20&until=2026-11-22")
    assert plain.get_data(as_text=True).startswith("call_sid,")
    assert plain.headers["Content-Disposition"] == 'attachment; filename="calls.csv"'


@pytest.mark.parametrize(
    ("answered_by", "shown"),
    [("101", "extension 101"), ("+12025550199", "the desk phone"), ("Marco", "Marco")],
)
def test_who_answered_reads_as_the_board_says_it(answered_by, shown):
    from callerid.manage import answerer

    assert answerer(answered_by) == shown
