"""The board in a real browser against real gunicorn: cards pop, change and stay readable."""

from __future__ import annotations

import os
import re
import shutil
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from callerid.db import utcnow
from callerid.models import Line

from ..factories import add_call, add_customer
from .browser import (
    ARTIFACTS,
    LINE,
    PASSWORD,
    TOP,
    callback,
    desk_answers,
    log_in,
    open_board,
    ring,
    shot,
)

DOCS_SCREENSHOT = TOP / "docs" / "screenshot-card.png"


def test_a_signed_call_pops_the_callers_card_with_the_greeting(
    board_server, screens, live_db, desk_user
):
    soon = utcnow().date() + timedelta(days=3)
    anna = add_customer(
        live_db,
        "Anna Moors",
        numbers=("+13125550187",),
        salutation="Mrs.",
        is_vip=True,
        tags="regular, terrace",
        notes="Prefers the corner table.",
        preferences="No shellfish.",
        birthday=soon.replace(year=1980),
    )
    add_call(live_db, anna, outcome="booking")
    screen = open_board(screens(), board_server)

    sid = ring(board_server, "+1 312-555-0187")

    card = screen.live(sid)
    expect(card).to_have_attribute("data-state", "ringing")
    expect(card.locator(".card__greeting")).to_have_text("Welcome back, Mrs. Moors")
    expect(card.locator(".card__band .card__vip")).to_have_text("★ VIP")
    expect(card.locator(".chips")).to_contain_text("terrace")
    expect(card).to_contain_text("Prefers the corner table.")
    expect(card).to_contain_text("No shellfish.")
    expect(card).to_contain_text("Birthday in 3 days")
    expect(card).to_contain_text("1 earlier call")
    # The history at a glance, next to the greeting.
    expect(card.locator(".card__last")).to_have_text(
        "Last called yesterday: booking · 1 call before"
    )
    expect(card.locator(".history__call")).to_have_count(1)
    expect(card.locator(".history__call")).to_contain_text("Booking")
    shot(screen.page, "board-ringing-known-caller")
    screen.assert_clean()


def test_answered_then_ended_cards_move_to_recent_calls(board_server, screens, live_db, desk_user):
    add_customer(
        live_db,
        "Anna Moors",
        numbers=("+13125550187",),
        salutation="Mrs.",
        notes="Prefers the corner table.",
        is_vip=True,
    )
    screen = open_board(screens(), board_server)
    sid = ring(board_server)
    expect(screen.live(sid)).to_have_attribute("data-state", "ringing")

    callback(board_server, sid, "in-progress")
    card = screen.live(sid)
    expect(card).to_have_attribute("data-state", "answered")
    expect(card.locator(".card__answered")).to_have_text("Answered")
    # Nobody claimed it: the card stays open while the desk talks to the caller.
    expect(card).not_to_have_class(re.compile("is-collapsed"))
    expect(card.get_by_text("Prefers the corner table.")).to_be_visible()
    expect(card.locator(".card__greeting")).to_have_text("Welcome back, Mrs. Moors")
    shot(screen.page, "board-answered")

    callback(board_server, sid, "completed", CallDuration="94")
    expect(screen.recent(sid)).to_have_attribute("data-state", "ended")
    expect(screen.live(sid)).to_have_count(0)
    past = screen.recent(sid)
    expect(past.locator(".card__answered")).to_have_text("Answered · 1 min 34 s")
    # The recent strip says who called, when, what happened, and VIP; not the greeting.
    expect(past.locator(".card__greeting")).to_have_text("Anna Moors")
    expect(past.locator(".card__time")).to_have_text(re.compile(r"^Today \d"))
    expect(past.locator(".card__vip")).to_be_visible()
    screen.assert_clean()


def test_the_desk_answering_shows_who_answered(board_server, screens, desk_user):
    screen = open_board(screens(), board_server)
    sid = ring(board_server)
    expect(screen.live(sid)).to_have_attribute("data-state", "ringing")
    desk_answers(board_server, sid, "client:Marco")
    expect(screen.live(sid).locator(".card__answered")).to_have_text("Answered by Marco")
    screen.assert_clean()


def test_a_missed_call_stands_out_in_recent_calls(board_server, screens, desk_user):
    screen = open_board(screens(), board_server)
    sid = ring(board_server, "+44 7912 345678")
    expect(screen.live(sid)).to_have_attribute("data-state", "ringing")
    callback(board_server, sid, "no-answer")
    missed = screen.recent(sid)
    expect(missed).to_have_attribute("data-state", "missed")
    expect(missed.locator(".card__state")).to_have_text("Missed")
    expect(missed.locator(".card__answered")).to_have_text("Missed call: nobody answered")
    expect(missed.locator(".card__greeting")).to_have_text("+44 7912 345678")
    shot(screen.page, "board-missed")
    screen.assert_clean()


def test_a_new_caller_shows_the_number_where_it_is_from_and_the_line_type(
    board_server, screens, desk_user
):
    screen = open_board(screens(), board_server)
    sid = ring(board_server, "+44 7912 345678")
    card = screen.live(sid)
    expect(card.locator(".card__greeting")).to_have_text("New caller")
    expect(card.locator(".card__number")).to_have_text("+44 7912 345678")
    expect(card.locator(".card__where")).to_contain_text("United Kingdom")
    expect(card.locator(".card__where")).to_contain_text("mobile")
    expect(card.get_by_label("Caller's name")).to_be_visible()
    shot(screen.page, "board-new-caller")
    screen.assert_clean()


def test_a_withheld_caller_says_so_and_offers_nothing_to_save(board_server, screens, desk_user):
    screen = open_board(screens(), board_server)
    sid = ring(board_server, "anonymous")
    card = screen.live(sid)
    expect(card.locator(".card__greeting")).to_have_text("Number withheld")
    expect(card).to_contain_text("The caller hid their number")
    expect(card.get_by_label("Caller's name")).to_be_hidden()
    screen.assert_clean()


XSS_NAMES = ["<img src=x onerror=alert(2)>", "<script>alert(1)</script>"]


def test_customer_text_is_shown_as_text_never_run(board_server, screens, live_db, desk_user):
    for number, name in zip(("+13125550187", "+13125550188"), XSS_NAMES, strict=True):
        add_customer(
            live_db,
            name,
            numbers=(number,),
            preferred_name=name,
            notes=name,
            preferences=name,
            tags=name.replace(",", ""),
        )
    screen = open_board(screens(), board_server)
    sids = [ring(board_server, "+13125550187"), ring(board_server, "+13125550188")]

    for sid, name in zip(sids, XSS_NAMES, strict=True):
        card = screen.live(sid)
        for selector in (".card__name", ".fact__text >> nth=0", ".fact__text >> nth=1", ".chip"):
            element = card.locator(selector)
            expect(element).to_have_text(name)
            assert element.evaluate("node => node.childElementCount") == 0
        expect(card.locator(".card__greeting")).to_have_text(f"Welcome back, {name}")
    assert screen.page.locator("#live-cards img").count() == 0
    screen.page.wait_for_timeout(300)  # give an onerror handler its chance to fire
    screen.assert_clean()


def test_saving_a_new_callers_name_greets_them_next_time(board_server, screens, desk_user):
    screen = open_board(screens(), board_server)
    first = ring(board_server, "+1 (415) 555-0134")
    card = screen.live(first)
    card.get_by_label("Caller's name").fill("Jamie Rivera")
    card.get_by_role("button", name="Save name").click()
    # Every screen redraws the card: the caller is now known.
    expect(card.locator(".card__greeting")).to_have_text("Welcome back, Jamie")
    expect(card.get_by_label("Caller's name")).to_be_hidden()
    callback(board_server, first, "completed")

    second = ring(board_server, "415-555-0134")
    expect(screen.live(second).locator(".card__greeting")).to_have_text("Welcome back, Jamie")
    expect(screen.live(second)).to_contain_text("1 earlier call")
    screen.assert_clean()


def test_a_note_and_an_outcome_are_saved_from_the_card(board_server, screens, desk_user):
    screen = open_board(screens(), board_server)
    sid = ring(board_server)
    card = screen.live(sid)
    card.get_by_role("button", name="Add note").click()
    card.get_by_label("Note on this call").fill("Table for 4, Friday 8 pm")
    card.get_by_label("Booking").check()
    card.get_by_role("button", name="Save note").click()
    expect(card.locator(".call-note__body")).to_have_text("Table for 4, Friday 8 pm")
    expect(card.locator(".call-notes__outcome")).to_have_text("Outcome: Booking")
    screen.page.reload()
    screen.wait_open()
    expect(screen.live(sid).locator(".call-note__body")).to_have_text("Table for 4, Friday 8 pm")
    screen.assert_clean()


def test_a_test_call_shows_a_marked_sample_card_on_this_screen_only(
    board_server, screens, desk_user
):
    screen = open_board(screens(), board_server)
    other = open_board(screens(), board_server)
    screen.page.get_by_text("Screen settings").click()
    screen.page.get_by_role("button", name="Send a test call").click()
    card = screen.page.locator('#live-cards article[data-test="true"]')
    expect(card.locator(".card__test")).to_have_text("TEST · only on this screen")
    expect(card.locator(".card__greeting")).to_have_text("Welcome back, Ms. Example")
    card.get_by_role("button", name="I've got it").click()
    expect(card.locator(".card__answered")).to_have_text("Answered by Anna (test)")
    card.get_by_role("button", name="Dismiss").click()
    expect(card).to_have_count(0)
    expect(other.page.locator("article.card")).to_have_count(0)
    screen.assert_clean()


def test_a_screen_can_leave_out_a_line(board_server, screens, desk_user):
    screen = open_board(screens(), board_server)
    shown = ring(board_server, to=LINE)
    expect(screen.live(shown)).to_be_visible()
    page = screen.page
    page.get_by_text("Screen settings").click()
    page.get_by_text("Lines:").click()
    page.get_by_label(LINE).uncheck()
    expect(screen.live(shown)).to_be_hidden()
    other = ring(board_server, "+13125550111", to="+12025550144")
    expect(screen.live(other)).to_be_visible()
    page.reload()
    screen.wait_open()
    expect(screen.live(shown)).to_be_hidden()  # kept in this browser
    expect(screen.live(other)).to_be_visible()
    screen.assert_clean()


def test_anonymous_visitors_are_sent_to_log_in(board_server, screens):
    page = screens().new_page()
    page.goto(board_server.url + "/")
    assert page.url == board_server.url + "/login?next=/"
    expect(page.get_by_role("heading", name="Front desk")).to_be_visible()


def test_a_wrong_password_says_so(board_server, screens, desk_user):
    page = screens().new_page()
    log_in(page, board_server, "Anna", "not the password")
    expect(page.get_by_role("alert")).to_have_text("That name and password do not match.")
    expect(page.get_by_label("Name")).to_have_value("Anna")
    log_in(page, board_server, "Anna", PASSWORD)
    page.wait_for_url(board_server.url + "/")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(board_server.url + "/login")
    page.goto(board_server.url + "/")
    assert "/login" in page.url


def test_pictures_of_the_board(board_server, screens, live_db, desk_user):
    soon = utcnow().date() + timedelta(days=3)
    anna = add_customer(
        live_db,
        "Anna Moors",
        numbers=("+13125550187",),
        salutation="Mrs.",
        is_vip=True,
        tags="regular, terrace, wine club",
        notes="Celebrating 25 years with us this spring. Always asks for Marco.",
        preferences="Corner table by the window. Sparkling water, no ice.",
        alerts="Severe shellfish allergy: nothing cooked with prawns or crab.",
        pronunciation="Moors: rhymes with 'doors'",
        birthday=soon.replace(year=1971),
    )
    for days, outcome in ((4, "booking"), (19, "question"), (45, "booking")):
        add_call(
            live_db,
            anna,
            at=time_ago(days),
            outcome=outcome,
            answered_by="Marco",
        )
    add_customer(live_db, "Tom Moors", numbers=("+13125550187",))
    live_db.scalars(select(Line).where(Line.number == LINE)).one().label = "Reservations"
    live_db.commit()
    screen = open_board(screens(device_scale_factor=2), board_server)
    sid = ring(board_server)
    card = screen.live(sid)
    expect(card.locator(".card__greeting")).to_have_text("Welcome back, Mrs. Moors")
    missed = ring(board_server, "+44 7912 345678")
    callback(board_server, missed, "no-answer")
    expect(screen.recent(missed)).to_be_visible()
    screen.page.evaluate("document.activeElement.blur()")
    ARTIFACTS.mkdir(exist_ok=True)
    card.screenshot(path=str(ARTIFACTS / "card.png"), animations="disabled")
    assert (ARTIFACTS / "card.png").stat().st_size < 300_000
    # The README's picture changes only when asked to, not with every test run's clock.
    if os.environ.get("CALLERID_UPDATE_SCREENSHOT") or not DOCS_SCREENSHOT.exists():
        DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(ARTIFACTS / "card.png", DOCS_SCREENSHOT)
    shot(screen.page, "board-overview")
    screen.assert_clean()


def time_ago(days: int):  # type: ignore[no-untyped-def]
    return utcnow() - timedelta(days=days, hours=2)


# Keys and announcements do not depend on the database engine: SQLite only.
@pytest.mark.parametrize("live_database_url", ["sqlite"], indirect=True)
def test_keys_take_the_longest_ringing_call_and_note_it_and_calls_are_announced_in_turn(
    board_server, screens, live_db, desk_user
):
    add_customer(
        live_db,
        "Anna Moors",
        numbers=("+13125550187",),
        salutation="Mrs.",
        is_vip=True,
        alerts="Severe peanut allergy",
    )
    screen = open_board(screens(), board_server)
    page = screen.page
    first = ring(board_server)
    second = ring(board_server, "+13125550111")
    expect(screen.live(second)).to_be_visible()
    # Screen readers hear both calls, one after the other, with the VIP and the alert.
    said = page.locator("#announce-calls p")
    expect(said).to_have_count(2)
    expect(said.nth(0)).to_have_text(
        re.compile(
            r"^Incoming call: Welcome back, Mrs\. Moors, Anna Moors, VIP, "
            r"Alert: Severe peanut allergy, "
        )
    )
    expect(said.nth(1)).to_have_text(re.compile(r"^Incoming call: New caller, "))

    page.keyboard.press("?")
    shortcuts = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(shortcuts).to_be_visible()
    page.keyboard.press("Escape")
    expect(shortcuts).to_be_hidden()
    page.keyboard.press("c")
    expect(screen.live(first)).to_have_attribute("data-state", "answered")
    expect(screen.live(second)).to_have_attribute("data-state", "ringing")
    page.keyboard.press("n")
    note = screen.live(first).get_by_label("Note on this call")
    expect(note).to_be_focused()
    expect(note).to_have_value("")  # the key opened the field and did not land in it

    note.press("Escape")
    page.keyboard.press("?")
    shortcuts.get_by_label("Use these one-key shortcuts on this screen").uncheck()
    shortcuts.get_by_role("button", name="Close").click()
    page.keyboard.press("c")  # off: a screen reader's keys are its own again
    page.keyboard.press("?")
    expect(shortcuts).to_be_visible()
    statuses = page.evaluate(
        "fetch('/board/live').then(r => r.json()).then(d => d.live.map(c => c.status))"
    )
    assert sorted(statuses) == ["in-progress", "ringing"]
    expect(screen.live(second)).to_have_attribute("data-state", "ringing")
    screen.assert_clean()


@pytest.mark.parametrize("live_database_url", ["sqlite"], indirect=True)
def test_a_new_caller_named_as_a_known_customer_is_attached_to_them_and_it_can_be_undone(
    board_server, screens, live_db, desk_user
):
    priya = add_customer(
        live_db, "Priya Raman", numbers=("+12025550178",), alerts="Shellfish allergy"
    )
    add_call(live_db, priya, outcome="booking")
    screen = open_board(screens(), board_server)
    other = open_board(screens(), board_server)
    sid = ring(board_server, "+1 415 555 0134")
    card = screen.live(sid)
    card.get_by_label("Caller's name").press_sequentially("Priya")
    pick = card.get_by_role("button", name=re.compile(r"^Add to Priya Raman \(number ending 78"))
    pick.click()
    # Not a second Priya: the number joins the one we know, on every screen, alert and all.
    for shown in (screen.live(sid), other.live(sid)):
        expect(shown.locator(".card__greeting")).to_have_text("Welcome back, Priya")
        expect(shown.locator(".card__alert-text")).to_have_text("Shellfish allergy")
    expect(card.locator(".card__status")).to_have_text("Added this number to Priya Raman.")

    card.get_by_role("button", name="Undo: not Priya Raman").click()
    for shown in (screen.live(sid), other.live(sid)):
        expect(shown.locator(".card__greeting")).to_have_text("New caller")
    expect(card.get_by_label("Caller's name")).to_be_visible()
    screen.assert_clean()
    other.assert_clean()
