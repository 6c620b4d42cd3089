"""GET /insights, checked against seven calls placed by hand over three days."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest

from callerid.db import utcnow

from ..factories import add_call, add_customer

WINDOW = "/insights?period=custom&from=2026-01-05&to=2026-01-07&tz=UTC"


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text of the page with tags removed."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.words: list[str] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.words.append(data)

    def with_class(self, name: str) -> list[dict[str, str]]:
        return [a for _, a in self.tags if name in a.get("class", "").split()]

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.words).split())


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC)


def shown(received: datetime, ms: int) -> dict:
    return {"card_shown_at": received + timedelta(milliseconds=ms)}


MISSED = {"status": "no-answer", "is_missed": True}


@pytest.fixture
def week(session):
    """Anna calls 3 times, Bob twice, two strangers once each: 7 calls, 5 answered, 2 missed (one
    called back), 3 returning (Anna's 2nd and 3rd, Bob's 2nd). Cards took 100-2000 ms."""
    anna = add_customer(session, "Anna Moors", numbers=("+14155550134",))
    bob = add_customer(session, "Bob <b>Lee</b>", numbers=("+13125550188",))
    add_call(session, anna, at=at(5, 9, 10), **shown(at(5, 9, 10), 100))
    add_call(session, bob, at=at(5, 9, 50), **shown(at(5, 9, 50), 200))
    add_call(
        session,
        None,
        from_number="+12125550100",
        at=at(5, 14, 5),
        **MISSED,
        **shown(at(5, 14, 5), 300),
    )
    add_call(session, anna, at=at(6, 12), **shown(at(6, 12), 400))
    add_call(session, bob, at=at(6, 18, 30), called_back_at=at(6, 19), **MISSED)
    add_call(session, anna, at=at(7, 10), **shown(at(7, 10), 500))
    add_call(session, None, from_number="+12125550111", at=at(7, 19), **shown(at(7, 19), 2000))
    add_call(session, anna, at=at(8, 0))  # the day after the period
    add_call(session, anna, at=at(4, 23, 59))  # the day before, in UTC
    return anna, bob


def stat(page: Elements, key: str) -> str:
    found = re.search(rf"{key} (\S+)", page.text)
    return found.group(1) if found else ""


def test_headline_figures_match_the_calls(as_manager, week):
    page = Elements(as_manager.get(WINDOW).get_data(as_text=True))
    assert "Calls 7 5 answered" in page.text
    assert "Answer rate 71% 5 of 7 calls" in page.text
    # Anna called on the 4th too, so all three of her calls in the period are returning.
    assert "Returning callers 57% 4 calls from customers who had called before" in page.text
    assert "Missed 2" in page.text
    assert "Not called back 1" in page.text
    # 100, 200, 300, 400, 500, 2000 ms: the median between 300 and 400; p95 at rank 4.75 of 0..5.
    assert "Screen pop, median 350 ms 95% within 1,625 ms · 6 calls measured" in page.text


def test_per_day_bars_carry_the_days_numbers(as_manager, week):
    page = Elements(as_manager.get(WINDOW).get_data(as_text=True))
    bars = [b for b in page.with_class("chart__bar") if re.match(r"\d{4}-", b["data-key"])]
    assert [
        (b["data-key"], b["data-total"], b.get("data-answered"), b.get("data-missed")) for b in bars
    ] == [
        ("2026-01-05", "3", "2", "1"),
        ("2026-01-06", "2", "1", "1"),
        ("2026-01-07", "2", "2", None),
    ]
    assert "Mon 5 Jan 2026 3 2 1" in page.text  # the same numbers in the day table


def test_per_day_bar_heights_follow_the_counts(as_manager, week):
    page = as_manager.get(WINDOW).get_data(as_text=True)
    days = page[page.index('id="chart-days"') : page.index("</svg>", page.index('id="chart-days"'))]
    answered = [
        float(h) for h in re.findall(r'chart__segment--answered"[^>]*height="([\d.]+)"', days)
    ]
    # Drawn to two decimals: 2 calls stand twice as tall as 1.
    assert answered[0] == pytest.approx(answered[2], abs=0.02)
    assert answered[0] == pytest.approx(2 * answered[1], abs=0.02)


def test_calls_by_hour_follow_the_time_zone(as_manager, week):
    page = Elements(as_manager.get(WINDOW).get_data(as_text=True))
    hours = {
        b["data-key"]: b["data-total"]
        for b in page.with_class("chart__bar")
        if b["data-key"].isdigit()
    }
    assert {h: n for h, n in hours.items() if n != "0"} == {
        "9": "2",
        "10": "1",
        "12": "1",
        "14": "1",
        "18": "1",
        "19": "1",
    }
    later = Elements(
        as_manager.get(WINDOW.replace("tz=UTC", "tz=Asia/Kolkata")).get_data(as_text=True)
    )
    assert "days and hours in Asia/Kolkata" in later.text
    shifted = {
        b["data-key"]: b["data-total"]
        for b in later.with_class("chart__bar")
        if b["data-key"].isdigit() and b["data-total"] != "0"
    }
    # +5:30: 23:59 the day before is 05:29 on the 5th, 18:30 on the 6th is midnight, 19:00 on
    # the 7th is past the end of the 7th there.
    assert shifted == {"0": "1", "5": "1", "14": "1", "15": "2", "17": "1", "19": "1"}


def test_top_callers_in_order_with_their_names_escaped(as_manager, week):
    page = as_manager.get(WINDOW).get_data(as_text=True)
    table = page[
        page.index('id="table-top-callers"') : page.index(
            "</table>", page.index("table-top-callers")
        )
    ]
    names = re.findall(r'<th scope="row">(?:<a [^>]*>)?([^<]*)', table)
    assert names == ["Anna Moors", "Bob &lt;b&gt;Lee&lt;/b&gt;"]
    assert "<b>Lee</b>" not in page
    assert [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', table)] == [3, 2]
    anna, bob = week
    links = re.findall(r'<th scope="row"><a href="([^"]+)"', table)
    assert links == [f"/customers/{anna.id}", f"/customers/{bob.id}"]


def test_charts_are_images_with_a_title_a_description_and_a_table(as_manager, week):
    page = as_manager.get(WINDOW).get_data(as_text=True)
    for chart in ("chart-days", "chart-hours", "chart-pop"):
        svg = re.search(rf'<svg class="chart[^"]*" id="{chart}"[^>]*>', page).group(0)
        assert 'role="img"' in svg
        assert f'aria-labelledby="{chart}-title" aria-describedby="{chart}-desc"' in svg
        assert f'<title id="{chart}-title">' in page
        assert f'<desc id="{chart}-desc">' in page
    for table in ("table-days", "table-hours", "table-pop"):
        assert f'id="{table}"' in page
    assert "style=" not in page  # the CSP forbids inline styles


def test_an_empty_period_says_so_without_dividing_by_zero(as_manager, week):
    response = as_manager.get("/insights?from=2025-03-01&to=2025-03-31")
    assert response.status_code == 200
    page = Elements(response.get_data(as_text=True))
    assert "No calls in this period." in page.text
    assert "Calls 0" in page.text
    assert "Answer rate —" in page.text
    assert "Returning callers —" in page.text
    assert "Screen pop, median — No screen reported a card yet" in page.text
    assert not page.with_class("chart")


def test_presets_count_back_from_today(as_manager, session):
    add_call(session, None, at=utcnow() - timedelta(minutes=5))
    add_call(session, None, at=utcnow() - timedelta(days=20))
    add_call(session, None, at=utcnow() - timedelta(days=60))
    expected = {"today": 1, "7d": 1, "30d": 2, "90d": 3}
    for preset, calls in expected.items():
        page = Elements(as_manager.get(f"/insights?period={preset}").get_data(as_text=True))
        current = [a for a in page.with_class("segmented__option") if a.get("aria-current")]
        assert [a["href"] for a in current] == [f"/insights?period={preset}"]
        assert f"Calls {calls} " in page.text, preset
    default = Elements(as_manager.get("/insights").get_data(as_text=True))
    assert "Last 30 days" in default.text and "Calls 2 " in default.text


def test_the_time_zone_defaults_to_the_business_setting(app, as_manager, session):
    app.config["CALLERID_TIMEZONE"] = "America/New_York"
    add_call(session, None, at=datetime(2026, 1, 6, 3, 0, tzinfo=UTC))  # 22:00 on the 5th there
    page = Elements(
        as_manager.get("/insights?from=2026-01-05&to=2026-01-05").get_data(as_text=True)
    )
    assert "days and hours in America/New_York" in page.text
    assert "Calls 1 " in page.text
    bars = {b["data-key"]: b["data-total"] for b in page.with_class("chart__bar")}
    assert bars["22"] == "1"


def test_the_open_missed_figure_links_to_the_missed_calls_page(as_manager, week):
    page = Elements(as_manager.get(WINDOW).get_data(as_text=True))
    links = [a["href"] for t, a in page.tags if t == "a" and a.get("href") == "/missed"]
    assert links  # "Call them back", beside the one missed call nobody returned
    quiet = as_manager.get("/insights?from=2026-01-07&to=2026-01-07").get_data(as_text=True)
    assert "Call them back" not in quiet  # nothing left to call back that day


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("period=custom&from=2026-01-05", "Pick both the first and the last day"),
        ("from=yesterday&to=2026-01-05", "The first day “yesterday” is not a date"),
        ("from=2026-01-05&to=2026-13-01", "The last day “2026-13-01” is not a date"),
        ("from=2026-01-08&to=2026-01-05", "The first day must not come after the last day"),
        ("from=2020-01-01&to=2026-01-01", "Pick at most 366 days"),
        ("from=0001-01-01&to=0001-01-02&tz=Asia/Tokyo", "Pick days nearer to today"),
        ("from=9999-12-30&to=9999-12-31", "Pick days nearer to today"),
        ("period=forever", "Choose one of the periods offered"),
        ("tz=Mars/Olympus", "“Mars/Olympus” is not a time zone"),
    ],
)
def test_a_period_that_cannot_be_read_is_explained_on_the_page(as_manager, query, message):
    response = as_manager.get(f"/insights?{query}")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert 'role="alert"' in page
    assert 'name="from"' in page  # the form is there to try again


def test_a_bad_time_zone_is_not_carried_into_the_links_out_of_the_error(as_manager):
    page = as_manager.get("/insights?period=7d&tz=Mars/Olympus").get_data(as_text=True)
    assert 'href="/insights?period=7d"' in page
    assert "Mars/Olympus" not in page.split('role="alert"')[0]


def test_dates_typed_into_the_form_come_back_escaped(as_manager):
    response = as_manager.get('/insights?from="><script>x</script>&to=2026-01-05')
    assert response.status_code == 400
    assert "<script>x" not in response.get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/insights")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_staff_may_not_see_insights(as_staff):
    assert as_staff.get("/insights").status_code == 403


def test_the_nav_marks_insights_as_the_current_page(as_manager):
    page = as_manager.get("/insights").get_data(as_text=True)
    assert re.search(r'href="/insights" aria-current="page">Insights<', page)
