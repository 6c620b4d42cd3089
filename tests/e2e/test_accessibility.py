"""axe-core (default rules, every impact) on the board, idle and ringing, and the manager pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from ..factories import add_call, add_customer, add_user
from .browser import PASSWORD, log_in, open_board, ring

AXE = Path(__file__).resolve().parents[1] / "vendor" / "axe-core" / "axe.min.js"

# Pages do not depend on the database engine: SQLite only.
pytestmark = pytest.mark.parametrize("live_database_url", ["sqlite"], indirect=True)


def violations(page: Page) -> list[str]:
    """What axe finds on the page as it stands, one line per rule and element."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map("
        "v => v.nodes.map(n => `${v.id} (${v.impact}): ${n.target.join(' ')}`)).flat())"
    )
    return list(found)


MANAGER_PAGES = ["/customers", "/customers/{id}", "/customers/{id}/edit", "/calls", "/missed"]
MANAGER_PAGES += ["/insights", "/quality", "/users", "/audit", "/account", "/settings"]


def test_the_board_idle_and_ringing_and_every_manager_page_have_no_violations(
    board_server, screens, live_db, desk_user
):
    anna = add_customer(
        live_db,
        "Anna Moors",
        numbers=("+13125550187",),
        salutation="Mrs.",
        is_vip=True,
        alerts="Severe peanut allergy",
        pronunciation="Moors: rhymes with doors",
        notes="Prefers the corner table.",
        preferences="Sparkling water.",
        tags="regular",
    )
    add_call(live_db, anna, outcome="booking", answered_by="+12025550199")
    add_user(live_db, "Maria", role="manager", password=PASSWORD)
    # axe is injected as a script: the page's own policy (script-src 'self') would refuse it.
    screen = open_board(screens(bypass_csp=True), board_server)
    assert violations(screen.page) == []
    known = ring(board_server)
    new = ring(board_server, "+44 7912 345678")
    expect(screen.live(new)).to_be_visible()
    expect(screen.live(known).locator(".card__alert")).to_be_visible()
    assert violations(screen.page) == []

    page = screens(bypass_csp=True).new_page()
    log_in(page, board_server, "Maria")
    page.wait_for_url(board_server.url + "/")
    found = {}
    for path in MANAGER_PAGES:
        page.goto(board_server.url + path.format(id=anna.id))
        found[path] = violations(page)
    assert found == {path: [] for path in MANAGER_PAGES}
