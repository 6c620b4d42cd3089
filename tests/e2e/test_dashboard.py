"""The insights page in a real browser against real gunicorn: a manager sees the charts, the
screen-pop time a real board reported, and the figures follow the period they pick."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from callerid.models import Call

from ..factories import add_call, add_customer, add_user
from .browser import PASSWORD, Screen, log_in, open_board, ring, shot


def wait_for_card_shown(live_db, sid: str) -> None:
    """The board reports "card shown" in the background; wait (up to 10 s) until it lands."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        live_db.expire_all()
        if live_db.scalar(select(Call.card_shown_at).where(Call.call_sid == sid)):
            return
        time.sleep(0.1)
    raise AssertionError(f"no screen reported showing the card of {sid}")


def test_a_manager_reads_the_dashboard_and_changes_the_period(
    board_server, screens, live_db, desk_user
):
    now = datetime.now(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    earlier_today = midnight + (now - midnight) / 2
    anna = add_customer(live_db, "Anna Moors", numbers=("+13125550187",))
    for _ in range(2):
        add_call(live_db, anna, at=earlier_today)
    for _ in range(5):
        add_call(live_db, None, at=now - timedelta(days=20), status="no-answer", is_missed=True)
    add_user(live_db, "Maria", role="manager", password=PASSWORD)

    board = open_board(screens(), board_server)
    sid = ring(board_server, "+1 312-555-0187")  # Anna again, while the board is open
    expect(board.live(sid)).to_be_visible()
    wait_for_card_shown(live_db, sid)

    page = screens().new_page()
    dashboard = Screen(page)
    log_in(page, board_server, "Maria")
    page.wait_for_url(board_server.url + "/")
    page.get_by_role("link", name="Insights").click()
    page.wait_for_url("**/insights")
    expect(page.get_by_role("heading", name="Insights", level=1)).to_be_visible()

    figures = page.locator(".insight-stats").first  # the second holds the call-backs and texts
    expect(page.locator('[data-stat="calls"] .stat__value')).to_have_text("8")
    expect(page.locator('[data-stat="missed"] .stat__value')).to_have_text("5")
    expect(figures).to_contain_text("1 call measured")
    for chart in (
        "Calls per day, answered and missed",
        "Calls by hour of the day",
        "Screen pop time",
    ):
        expect(page.get_by_role("img", name=chart)).to_be_visible()
    bars = page.locator("#chart-days .chart__segment--missed")
    expect(bars).to_have_count(1)
    shot(page, "insights-last-30-days")

    page.get_by_role("link", name="Today").click()
    expect(page.get_by_role("link", name="Today")).to_have_attribute("aria-current", "page")
    expect(page.locator('[data-stat="calls"] .stat__value')).to_have_text("3")
    expect(page.locator('[data-stat="answer-rate"] .stat__value')).to_have_text("67%")
    expect(page.locator('[data-stat="returning"] .stat__value')).to_have_text("67%")
    expect(page.locator("#chart-days .chart__bar")).to_have_count(1)
    top = page.locator("#table-top-callers tbody tr")
    expect(top).to_have_count(1)
    expect(top.first).to_contain_text("Anna Moors")

    past = (now - timedelta(days=20)).date()
    day = past.isoformat()
    page.get_by_label("From", exact=True).fill(day)
    page.get_by_label("To", exact=True).fill(day)
    page.get_by_role("button", name="Show these days").click()
    expect(page.locator('[data-stat="calls"] .stat__value')).to_have_text("5")
    expect(page.locator('[data-stat="answer-rate"] .stat__value')).to_have_text("0%")
    expect(page.locator(".period__summary")).to_contain_text(f"{past.day} {past:%b %Y}")
    shot(page, "insights-custom-day")

    page.get_by_label("From", exact=True).fill(day)
    page.get_by_label("To", exact=True).fill((now - timedelta(days=30)).date().isoformat())
    page.get_by_role("button", name="Show these days").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "The first day must not come after the last day."
    )
    dashboard.assert_clean()
    board.assert_clean()
