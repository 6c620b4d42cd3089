"""Finding 3 in browsers against real gunicorn: logins that end, screens that stay."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from .browser import log_in, open_board, ring

# Sessions behave alike on both engines (tests/security/test_sessions.py runs both); one server
# here keeps the suite's time.
pytestmark = pytest.mark.parametrize("live_database_url", ["sqlite"], indirect=True)


def test_one_screen_logs_out_and_the_other_screen_of_that_login_stays_live(
    board_server, screens, desk_user
):
    leaving = open_board(screens(), board_server, "Anna")
    staying = open_board(screens(), board_server, "Anna")
    copied = {c["name"]: c["value"] for c in leaving.page.context.cookies()}
    assert requests.get(board_server.url + "/api/missed/count", cookies=copied).status_code == 200

    leaving.page.get_by_role("button", name="Log out").click()
    leaving.page.wait_for_url(re.compile(r"/login"))

    sid = ring(board_server)
    expect(staying.live(sid)).to_have_attribute("data-state", "ringing")
    expect(staying.page.locator("body")).to_have_attribute("data-stream", "open")
    # The cookie the leaving screen had, copied before it left, logs nobody in any more.
    assert requests.get(board_server.url + "/api/missed/count", cookies=copied).status_code == 401
    staying.assert_clean()


def test_logging_out_everywhere_sends_every_open_board_of_that_user_to_log_in(
    board_server, screens, desk_user
):
    board = open_board(screens(), board_server, "Anna")
    account = screens().new_page()
    log_in(account, board_server, "Anna")
    account.goto(board_server.url + "/account")
    expect(account.locator("[data-live-logins]")).to_have_text("2")
    account.get_by_role("button", name="Log out everywhere").click()
    account.wait_for_url(re.compile(r"/login"))
    # Its stream ends within a heartbeat (2 s here) and the page finds the login gone.
    board.page.wait_for_url(re.compile(r"/login"), timeout=8_000)
