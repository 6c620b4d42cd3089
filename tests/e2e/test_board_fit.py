"""The host stand: every ringing caller's greeting, VIP, alerts and claim button on one screen,
without scrolling, at a laptop's, a small laptop's and a portrait tablet's size."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import Page, expect

from ..factories import add_call, add_customer
from .browser import TOP, callback, open_board, ring, shot

DOCS = TOP / "docs"

# Layout does not depend on the database engine: one server on SQLite is enough.
pytestmark = pytest.mark.parametrize("live_database_url", ["sqlite"], indirect=True)

SIZES = [(1366, 768), (1024, 768), (810, 1080)]
# Alerts show in full up to 120 characters: this one is 119.
ALERT = (
    "Severe peanut allergy: no nuts, no nut oils, EpiPen in her bag. "
    "Uses a wheelchair; the step-free door is on Elm Street."
)
CALLERS = [
    ("Eleanor Whitfield-Montgomery", "+13125550101", "Mrs."),
    ("Bartholomew Okonkwo-Harrington", "+13125550102", "Dr."),
    ("Priya Raman", "+13125550103", "Ms."),
]


def add_regulars(session) -> None:  # type: ignore[no-untyped-def]
    """The richest regulars: VIP, an alert, long notes and preferences, several earlier calls."""
    for name, number, salutation in CALLERS:
        customer = add_customer(
            session,
            name,
            numbers=(number,),
            salutation=salutation,
            is_vip=True,
            alerts=ALERT,
            pronunciation=f"{name.split()[-1]}: as it is spelt",
            tags="regular, terrace, wine club",
            notes="Celebrating 25 years with us this spring. Always asks for Marco. " * 2,
            preferences="Corner table by the window. Sparkling water, no ice. " * 2,
        )
        for _ in range(3):
            add_call(session, customer, outcome="booking", answered_by="Marco")


def inside(page: Page, locator, what: str) -> None:  # type: ignore[no-untyped-def]
    """``locator`` is drawn wholly inside the window, as it stands (no scrolling)."""
    width, height = page.viewport_size["width"], page.viewport_size["height"]  # type: ignore[index]
    box = locator.bounding_box()
    assert box is not None, f"{what} is not drawn at {width}x{height}"
    assert box["x"] >= 0 and box["y"] >= 0, f"{what} at {box}, window {width}x{height}"
    assert box["x"] + box["width"] <= width, f"{what} at {box}, window {width}x{height}"
    assert box["y"] + box["height"] <= height, f"{what} at {box}, window {width}x{height}"


def assert_ringing_cards_fit(page: Page, sids: list[str]) -> None:
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        assert page.evaluate("window.scrollY") == 0
        for n, sid in enumerate(sids):
            card = page.locator(f'#live-cards article[data-call-sid="{sid}"]')
            what = f"card {n + 1} of {len(sids)} ringing at {width}x{height}"
            inside(page, card.locator(".card__greeting"), f"greeting of {what}")
            inside(page, card.locator(".card__vip"), f"VIP of {what}")
            inside(page, card.locator(".card__alert"), f"alert of {what}")
            inside(page, card.locator(".card__say"), f"pronunciation of {what}")
            inside(page, card.get_by_role("button", name="I've got it"), f"claim of {what}")
            if (width, height) == (1366, 768):
                size = card.locator(".card__greeting").evaluate(
                    "node => parseFloat(getComputedStyle(node).fontSize)"
                )
                assert size >= 28, f"greeting of {what} is {size} px"
        shot(page, f"board-fit-{len(sids)}-ringing-{width}x{height}")
        if len(sids) == 3:
            picture(page, DOCS / f"screenshot-board-{width}x{height}.png")


def test_every_ringing_callers_card_fits_on_one_screen_oldest_first(
    board_server, screens, live_db, desk_user
):
    add_regulars(live_db)
    screen = open_board(screens(), board_server)
    page = screen.page
    sids: list[str] = []
    for _, number, _ in CALLERS:
        sids.append(ring(board_server, number))
        expect(screen.live(sids[-1])).to_have_attribute("data-state", "ringing")
        assert_ringing_cards_fit(page, sids)

    # Hosts answer in ring order: the first caller is the first card.
    order = page.locator("#live-cards article").evaluate_all(
        "cards => cards.map(card => card.dataset.callSid)"
    )
    assert order == sids
    expect(screen.live(sids[0]).locator(".card__for")).to_have_text(re.compile(r"^for \d+:\d\d$"))

    callback(board_server, sids[0], "in-progress")
    answered = screen.live(sids[0])
    expect(answered).to_have_attribute("data-state", "answered")
    # The answered card goes after the ringing ones, and shrinks.
    expect(page.locator("#live-cards article").last).to_have_attribute("data-call-sid", sids[0])
    expect(answered.locator(".card__for")).to_be_hidden()
    expect(answered.locator(".card__alert-text")).to_have_text(ALERT)  # kept while talking
    expect(answered.locator(".card__alert-label")).to_have_text("Alert")
    assert_ringing_cards_fit(page, sids[1:])

    # Ten ringing: the oldest stays in view, and one scroll of the page shows every other
    # caller's name and claim button.
    page.set_viewport_size({"width": 1366, "height": 768})
    ringing = sids[1:] + [ring(board_server, f"+1312555{n:04d}") for n in range(200, 208)]
    expect(page.locator('#live-cards article[data-state="ringing"]')).to_have_count(10)
    first = screen.live(ringing[0])
    inside(page, first.locator(".card__greeting"), "greeting of the oldest of ten")
    inside(page, first.get_by_role("button", name="I've got it"), "claim of the oldest of ten")
    seen = set(in_view(page, ringing))
    shot(page, "board-fit-10-ringing-1366x768")
    page.locator("#live-title").click()  # the keyboard on the page, not in a field
    page.keyboard.press("PageDown")
    settle_scroll(page)
    seen |= set(in_view(page, ringing))
    assert seen == set(ringing), f"{len(ringing) - len(seen)} of ten not seen in one scroll"
    screen.assert_clean()


def settle_scroll(page: Page) -> None:
    """Wait for a keyboard scroll to end: Chromium animates it."""
    last = -1
    for _ in range(50):  # at most 5 s
        now = page.evaluate("window.scrollY")
        if now == last and now > 0:
            return
        last = now
        page.wait_for_timeout(100)
    raise AssertionError(f"the page did not settle after one scroll (at {last})")


def in_view(page: Page, sids: list[str]) -> list[str]:
    """The calls whose greeting and claim button are both wholly in the window now."""
    return page.evaluate(
        """sids => sids.filter(sid => {
            const card = document.querySelector(`#live-cards article[data-call-sid="${sid}"]`);
            return [".card__greeting", '[data-action="claim"]'].every(selector => {
                const box = card.querySelector(selector).getBoundingClientRect();
                return box.height > 0 && box.top >= 0 && box.bottom <= innerHeight;
            });
        })""",
        sids,
    )


def picture(page: Page, path) -> None:  # type: ignore[no-untyped-def]
    """The window as the host sees it, for docs/board.md; only when asked to (or missing), so
    that the pictures do not change with every run's clock."""
    if os.environ.get("CALLERID_UPDATE_SCREENSHOT") or not path.exists():
        page.evaluate("document.activeElement.blur()")
        page.screenshot(path=str(path), animations="disabled")
