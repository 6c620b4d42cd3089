"""Several screens, one desk: claims, edits, reconnects and late-opened screens agree."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from ..factories import add_customer
from .browser import callback, open_board, ring, shot


def test_the_screen_that_claimed_a_call_keeps_it_open_and_the_others_fold_it(
    board_server, screens, live_db, desk_user
):
    add_customer(
        live_db,
        "Anna Moors",
        numbers=("+13125550187",),
        salutation="Mrs.",
        notes="Prefers the corner table.",
        alerts="Severe peanut allergy",
    )
    # One login on both screens: the screen that claimed, not the person, keeps the card open.
    mine = open_board(screens(), board_server, "Anna")
    theirs = open_board(screens(), board_server, "Anna")
    sid = ring(board_server)
    expect(theirs.live(sid)).to_have_attribute("data-state", "ringing")

    mine.live(sid).get_by_role("button", name="I've got it").click()

    for screen in (mine, theirs):
        card = screen.live(sid)
        expect(card).to_have_attribute("data-state", "answered")
        expect(card.locator(".card__answered")).to_have_text("Answered by Anna")
        expect(card.get_by_role("button", name="I've got it")).to_be_hidden()
        # Folded or not, the alert stays in view while the call goes on.
        expect(card.locator(".card__alert")).to_be_visible()
        expect(card.locator(".card__alert-text")).to_have_text("Severe peanut allergy")
    expect(mine.live(sid)).not_to_have_class(re.compile("is-collapsed"))
    expect(mine.live(sid).get_by_text("Prefers the corner table.")).to_be_visible()
    expect(theirs.live(sid)).to_have_class("card is-collapsed")
    expect(theirs.live(sid).get_by_text("Prefers the corner table.")).to_be_hidden()
    theirs.live(sid).get_by_role("button", name="Show details").click()
    expect(theirs.live(sid).locator(".card__details")).to_be_visible()

    later = open_board(screens(), board_server, "Anna")  # opened after the claim: folds too
    expect(later.live(sid)).to_have_class("card is-collapsed")
    mine.page.reload()  # the tab that claimed keeps its card open across a reload
    mine.wait_open()
    expect(mine.live(sid).get_by_text("Prefers the corner table.")).to_be_visible()
    for screen in (mine, theirs, later):
        screen.assert_clean()


def test_editing_a_customer_redraws_their_card_on_other_screens(
    board_server, screens, live_db, desk_user
):
    add_customer(live_db, "Anna Moors", numbers=("+13125550187",))
    mine = open_board(screens(), board_server)
    theirs = open_board(screens(), board_server)
    sid = ring(board_server)
    expect(theirs.live(sid).locator(".card__greeting")).to_have_text("Welcome back, Anna")

    card = mine.live(sid)
    card.get_by_role("button", name="Edit customer").click()
    card.get_by_label("Salutation").fill("Dr.")
    card.get_by_label("Notes").fill("Allergic to peanuts")
    card.get_by_label("Alerts").fill("<img src=x onerror=alert(2)> Severe peanut allergy")
    card.get_by_label("Pronunciation").fill("Moors: say 'mores'")
    card.get_by_label("VIP").check()
    card.get_by_role("button", name="Save customer").click()

    other = theirs.live(sid)
    expect(other.locator(".card__greeting")).to_have_text("Welcome back, Dr. Moors")
    expect(other.locator(".fact__text").first).to_have_text("Allergic to peanuts")
    expect(other.locator(".card__band .card__vip")).to_have_text("★ VIP")
    alert = other.locator(".card__alert-text")
    expect(alert).to_have_text("<img src=x onerror=alert(2)> Severe peanut allergy")
    assert alert.evaluate("node => node.childElementCount") == 0
    expect(other.locator(".card__say")).to_have_text("Say it: Moors: say 'mores'")
    expect(card.locator(".card__greeting")).to_have_text("Welcome back, Dr. Moors")
    mine.assert_clean()
    theirs.assert_clean()


def test_a_screen_that_was_offline_gets_the_calls_it_missed_once(board_server, screens, desk_user):
    context = screens()
    screen = open_board(context, board_server)
    before = ring(board_server)
    expect(screen.live(before)).to_be_visible()

    context.set_offline(True)
    expect(screen.page.locator("body")).to_have_attribute("data-stream", "offline")
    expect(screen.page.locator("#connection")).to_have_text("Offline · retrying")
    missed = [ring(board_server, f"+1312555{n:04d}") for n in range(3)]
    callback(board_server, before, "completed")
    context.set_offline(False)

    screen.wait_open()
    for sid in missed:
        expect(screen.live(sid)).to_have_count(1)
    expect(screen.recent(before)).to_have_count(1)
    expect(screen.page.locator("article.card")).to_have_count(4)
    screen.assert_clean()


def test_a_screen_whose_stream_is_cut_replays_what_it_missed(board_server, screens, desk_user):
    context = screens()
    screen = open_board(context, board_server)
    seen = ring(board_server)
    expect(screen.live(seen)).to_be_visible()
    # Cut the stream where the network would: the server goes away, and until the test says so
    # the browser's own reconnects (with Last-Event-ID) fail.
    context.route("**/events?*", lambda route: route.abort())
    board_server.stop()
    expect(screen.page.locator("body")).not_to_have_attribute("data-stream", "open")
    board_server.start()
    missed = [ring(board_server, f"+1312555{n:04d}") for n in range(2)]
    callback(board_server, seen, "completed")
    context.unroute("**/events?*")

    screen.wait_open()
    for sid in missed:
        expect(screen.live(sid)).to_have_count(1)
    expect(screen.recent(seen)).to_have_count(1)
    expect(screen.page.locator("article.card")).to_have_count(3)


def test_a_screen_opened_while_a_call_rings_shows_it_at_once(
    board_server, screens, live_db, desk_user
):
    add_customer(live_db, "Anna Moors", numbers=("+13125550187",), salutation="Mrs.")
    sid = ring(board_server)
    screen = open_board(screens(), board_server)
    card = screen.live(sid)
    expect(card).to_have_attribute("data-state", "ringing")
    expect(card.locator(".card__greeting")).to_have_text("Welcome back, Mrs. Moors")
    screen.page.reload()
    expect(screen.live(sid)).to_have_count(1)
    screen.assert_clean()


def test_tabs_of_one_browser_share_one_stream(board_server, screens, desk_user):
    context = screens()
    streams: list[str] = []
    context.on("request", lambda r: streams.append(r.url) if "/events" in r.url else None)
    first = open_board(context, board_server)
    second = first.page.context.new_page()
    second.goto(board_server.url + "/")
    expect(second.locator("body")).to_have_attribute("data-stream", "open")
    sid = ring(board_server)
    expect(first.live(sid)).to_be_visible()
    expect(second.locator(f'#live-cards article[data-call-sid="{sid}"]')).to_be_visible()
    assert len(streams) == 1, streams

    first.page.close()  # the leader goes; the other tab takes over the stream
    later = ring(board_server, "+13125550111")
    expect(second.locator(f'#live-cards article[data-call-sid="{later}"]')).to_be_visible()
    assert len(streams) == 2, streams


# How the page recovers does not depend on the database engine: SQLite only.
@pytest.mark.parametrize("live_database_url", ["sqlite"], indirect=True)
def test_a_refused_screen_warns_comes_back_when_told_and_goes_to_login_when_signed_out(
    board_server, screens, desk_user
):
    context = screens()
    screen = open_board(context, board_server)
    refused: list[str] = []

    def busy_twice(route) -> None:  # type: ignore[no-untyped-def]
        # The stream's next request and the page's question why: "busy, come back in 6 s".
        if len(refused) < 2:
            refused.append(route.request.url)
            route.fulfill(status=429, headers={"Retry-After": "6"}, body="busy")
        else:
            route.continue_()

    context.route("**/events?*", busy_twice)
    context.set_offline(True)  # drop the open stream; coming back online reconnects at once
    context.set_offline(False)
    expect(screen.page.locator("body")).to_have_attribute("data-stream", "busy")
    expect(screen.page.locator("#connection")).to_have_text("Server busy · retrying")
    # Five seconds without the stream: a warning across the board says what happened.
    banner = screen.page.get_by_role("alert")
    expect(banner).to_contain_text(
        "The callerid server is busy and asked this screen to wait", timeout=10_000
    )
    expect(banner).to_contain_text("new calls do not show here yet")
    assert banner.bounding_box()["width"] > 0.9 * screen.page.viewport_size["width"] - 80
    shot(screen.page, "board-busy")
    screen.wait_open()  # EventSource alone never retries after a 429: the page did
    expect(banner).to_be_hidden()
    assert len(refused) == 2
    sid = ring(board_server)
    expect(screen.live(sid)).to_be_visible()
    screen.assert_clean()

    context.clear_cookies()  # the session is gone, as after "log out everywhere"
    context.set_offline(True)
    context.set_offline(False)
    screen.page.wait_for_url("**/login?next=/")
    expect(screen.page.get_by_label("Name")).to_be_visible()
