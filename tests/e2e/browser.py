"""Browser tests' parts: one headless Debian Chromium per session (never a downloaded browser), a
fresh context per screen, and helpers that log in, open the board and ring the phone."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from bench.board import CHROMIUM, CHROMIUM_ARGS

from ..factories import add_user, call_sid
from ..twilio import sample, signature, status_sequence
from .server import TOP, Server

ARTIFACTS = Path(os.environ.get("CALLERID_TEST_ARTIFACTS") or TOP / "test-artifacts")
LINE = "+12025550143"
PASSWORD = "correct horse"
TABLET = {"width": 1180, "height": 820}


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed: run scripts/test, which installs it")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def board_server(server: Server) -> Server:
    """gunicorn with two workers (events must cross processes) on the live database."""
    return server


@pytest.fixture
def screens(browser: Browser) -> Iterator[Callable[..., BrowserContext]]:
    """Make a new browser context (a separate screen: own cookies, storage and streams)."""
    made: list[BrowserContext] = []

    def new_screen(**options: object) -> BrowserContext:
        context = browser.new_context(viewport=TABLET, **options)  # type: ignore[arg-type]
        context.set_default_timeout(10_000)
        made.append(context)
        return context

    yield new_screen
    for context in made:
        context.close()


@pytest.fixture
def live_db(live_database_url: str) -> Iterator[Session]:
    """A session on the database the server uses, to add the rows a test talks about."""
    engine = create_engine(live_database_url)
    with Session(engine, expire_on_commit=False) as session:
        yield session
    engine.dispose()


@pytest.fixture
def desk_user(live_db: Session) -> str:
    add_user(live_db, "Anna", role="staff", password=PASSWORD)
    return "Anna"


class Screen:
    """A board page, with everything the page said that a test should fail on."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", self._console)

    def _dialog(self, dialog) -> None:  # type: ignore[no-untyped-def]
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _console(self, message) -> None:  # type: ignore[no-untyped-def]
        # CSP violations and script errors are console errors; failed requests a test caused
        # on purpose (blocked /events, going offline) are not the page's fault.
        if message.type == "error" and not re.search(
            r"net::ERR_|Failed to load resource", message.text
        ):
            self.errors.append(message.text)

    def card(self, call_sid: str):  # type: ignore[no-untyped-def]
        return self.page.locator(f'article.card[data-call-sid="{call_sid}"]')

    def live(self, call_sid: str):  # type: ignore[no-untyped-def]
        return self.page.locator(f'#live-cards article.card[data-call-sid="{call_sid}"]')

    def recent(self, call_sid: str):  # type: ignore[no-untyped-def]
        return self.page.locator(f'#recent-cards article.card[data-call-sid="{call_sid}"]')

    def wait_open(self) -> Screen:
        expect(self.page.locator("body")).to_have_attribute("data-stream", "open")
        return self

    def assert_clean(self) -> None:
        assert self.dialogs == [], self.dialogs
        assert self.errors == [], self.errors


def log_in(page: Page, server: Server, name: str, password: str = PASSWORD) -> None:
    page.goto(server.url + "/login")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def open_board(context: BrowserContext, server: Server, name: str = "Anna") -> Screen:
    """Log in on ``context`` and return the board once its stream is open."""
    page = context.new_page()
    screen = Screen(page)
    log_in(page, server, name)
    page.wait_for_url(server.url + "/")
    return screen.wait_open()


def ring(server: Server, raw_from: str = "+13125550187", *, to: str = LINE) -> str:
    """A signed incoming-call webhook, as Twilio sends it; returns the new CallSid."""
    sid = call_sid()
    params = sample(
        "voice-inbound-us", CallSid=sid, From=raw_from, Caller=raw_from, To=to, Called=to
    )
    response = post_signed(server, "/twilio/voice", params)
    assert response.status_code == 200, server.log()[-2000:]
    return sid


def callback(server: Server, sid: str, status: str, **extra: str) -> None:
    """A signed status callback for the inbound call ``sid`` (now, in order)."""
    params = {
        **status_sequence()[0],
        "CallSid": sid,
        "CallStatus": status,
        "Timestamp": format_datetime(datetime.now(UTC), usegmt=True),
        **extra,
    }
    response = post_signed(server, "/twilio/status", params)
    assert response.status_code in (200, 204), server.log()[-2000:]


def desk_answers(server: Server, sid: str, desk: str) -> None:
    """The status callback of the dialled desk leg (<Number statusCallback>) going in-progress."""
    params = sample("status-child-leg", CallSid=call_sid(), ParentCallSid=sid, To=desk, Called=desk)
    response = post_signed(server, "/twilio/status", params)
    assert response.status_code in (200, 204), server.log()[-2000:]


def post_signed(server: Server, path: str, params: dict[str, str]) -> requests.Response:
    headers = {"X-Twilio-Signature": signature(server.url + path, params)}
    return requests.post(server.url + path, data=params, headers=headers, timeout=10)


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
