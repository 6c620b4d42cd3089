"""Missed calls in a real browser: the board's count rises the moment a call ends missed, and
falls when someone marks the caller called back on /missed in another screen."""

from __future__ import annotations

from playwright.sync_api import expect

from ..factories import add_customer
from .browser import Screen, callback, log_in, open_board, ring, shot


def test_a_missed_call_counts_on_the_board_until_it_is_called_back(
    board_server, screens, live_db, desk_user
):
    add_customer(live_db, "Anna Moors", numbers=("+13125550187",))
    board = open_board(screens(), board_server)
    count = board.page.locator("[data-missed-count]")
    expect(count).to_be_hidden()

    sid = ring(board_server, "+1 312-555-0187")
    expect(board.live(sid)).to_have_attribute("data-state", "ringing")
    callback(board_server, sid, "no-answer")
    expect(board.recent(sid)).to_have_attribute("data-state", "missed")
    expect(count).to_be_visible()
    expect(count.locator("[data-missed-number]")).to_have_text("1")
    expect(board.page.get_by_role("link", name="Missed calls 1 waiting")).to_be_visible()
    shot(board.page, "board-missed-count")

    # A second screen, as another person at the desk: the missed-calls page.
    other = Screen(screens().new_page())
    log_in(other.page, board_server, desk_user)
    other.page.goto(board_server.url + "/missed?tz=UTC")
    caller = other.page.locator(f'li.missed__item[data-call-sid="{sid}"]')
    expect(caller).to_contain_text("Anna Moors")
    expect(caller.locator("dd").first).to_have_text("1 time")
    shot(other.page, "missed-page")
    caller.get_by_role("button", name="Called back: Anna Moors").click()

    expect(other.page.get_by_role("alert")).to_have_text("Anna Moors: marked called back by Anna.")
    expect(other.page.get_by_role("status")).to_have_text("No missed calls waiting.")
    expect(count).to_be_hidden()  # on the board, without a reload
    other.page.get_by_role("link", name="Show recently called back").click()
    expect(other.page.locator(".missed--done")).to_contain_text("Called back by Anna")
    shot(other.page, "missed-page-called-back")
    board.assert_clean()
    other.assert_clean()
