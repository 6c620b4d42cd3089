"""The customer pages in a real browser against real gunicorn: find, read and edit a customer."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from callerid.db import utcnow
from callerid.models import Note

from ..factories import add_call, add_customer, add_user
from .browser import PASSWORD, Screen, log_in, shot

UNLABELLED_CONTROLS = """() => [...document.querySelectorAll(
    'input:not([type=hidden]), select, textarea, button')]
  .filter((e) => !(e.labels && e.labels.length) && !e.textContent.trim()
                 && !e.getAttribute('aria-label'))
  .map((e) => e.name || e.outerHTML)"""


def test_a_manager_finds_a_customer_by_a_local_number_and_edits_them(server, screens, live_db):
    add_user(live_db, "Maria", role="manager", password=PASSWORD)
    anna = add_customer(live_db, "Anna Moors", numbers=("+13125550187",), salutation="Mrs.")
    add_customer(live_db, "Bob Lee", numbers=("+14155550100",))
    call = add_call(live_db, anna, at=utcnow() - timedelta(days=2), answered_by="Marco")
    live_db.add(Note(call_id=call.id, customer_id=anna.id, body="Booked the terrace for six"))
    live_db.commit()
    screen = Screen(screens().new_page())
    page = screen.page
    log_in(page, server, "Maria")
    page.wait_for_url(server.url + "/")

    page.get_by_role("link", name="Customers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Customers")
    expect(page.get_by_role("link", name="Customers")).to_have_attribute("aria-current", "page")
    page.keyboard.press("Tab")  # the first stop is the skip link
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    search = page.get_by_label("Name, email or number")
    search.fill("312-555-0187")
    search.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("1 customer match “312-555-0187”")
    rows = page.locator(".customer-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("(312) 555-0187")

    rows.first.get_by_role("link", name="Anna Moors").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Anna Moors")
    timeline = page.locator(".timeline")
    expect(timeline.locator(".timeline__call")).to_have_count(1)
    expect(timeline).to_contain_text("Booked the terrace for six")
    expect(timeline).to_contain_text("Marco")
    expect(page.locator(".customer-hero__words")).to_have_text("“Welcome back, Mrs. Moors”")
    assert page.evaluate(UNLABELLED_CONTROLS) == []

    page.get_by_role("link", name="Edit", exact=True).click()
    assert page.evaluate(UNLABELLED_CONTROLS) == []
    preferred = page.get_by_label("Preferred name")
    preferred.fill("Annie")
    preferred.press("Enter")  # submits from the keyboard
    expect(page).to_have_url(f"{server.url}/customers/{anna.id}")
    expect(page.locator(".flash")).to_contain_text("Saved.")
    expect(page.locator(".customer-hero__words")).to_have_text("“Welcome back, Annie”")
    expect(page.locator(".facts")).to_contain_text("Annie")
    shot(page, "customer-page")
    screen.assert_clean()
