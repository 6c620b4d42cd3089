"""Finding 3 in browsers against real gunicorn: logins that end, screens that stay."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import expect
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from callerid.cli.database import upgrade

from ..factories import add_user
from .browser import PASSWORD, log_in, open_board, ring
from .conftest import server_env
from .server import Server


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    # SQLite alone: logins behave alike on both engines (tests/security/test_sessions.py).
    url = f"sqlite:///{tmp_path_factory.mktemp('logouts') / 'live.sqlite3'}"
    upgrade(url)
    return url


@pytest.fixture(scope="module")
def board_server(database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server (two workers) for the module; each test logs in a user of its own. A 1 s
    heartbeat: an open board learns sooner that its login ended."""
    instance = tmp_path_factory.mktemp("logouts-server") / "instance"
    live = Server(server_env(database, instance, CALLERID_HEARTBEAT="1")).start()
    yield live
    live.stop()


@pytest.fixture
def new_user(database: str):
    def add(name: str) -> str:
        engine = create_engine(database)
        with Session(engine) as session:
            add_user(session, name, role="staff", password=PASSWORD)
        engine.dispose()
        return name

    return add


def test_one_screen_logs_out_and_the_other_screen_of_that_login_stays_live(
    board_server, screens, new_user
):
    name = new_user("Anna")
    leaving = open_board(screens(), board_server, name)
    staying = open_board(screens(), board_server, name)
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
    board_server, screens, new_user
):
    name = new_user("Ben")
    board = open_board(screens(), board_server, name)
    account = screens().new_page()
    log_in(account, board_server, name)
    account.goto(board_server.url + "/account")
    expect(account.locator("[data-live-logins]")).to_have_text("2")
    account.get_by_role("button", name="Log out everywhere").click()
    account.wait_for_url(re.compile(r"/login"))
    # Its stream ends within a heartbeat (2 s here) and the page finds the login gone.
    board.page.wait_for_url(re.compile(r"/login"), timeout=8_000)
