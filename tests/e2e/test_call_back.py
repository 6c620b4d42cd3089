"""Call back in one click, in a real browser against real gunicorn: the button on an ended card,
and the call-back's progress on the board, with Twilio's side played by the stand-in for its
REST API (tests/twilio_api.py), which rings the phones and reports back over HTTP, signed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from ..conftest import DESK
from ..factories import add_customer
from ..twilio import AUTH_TOKEN
from ..twilio_api import ACCOUNT_SID, Callee, TwilioApi
from .browser import Screen, callback, open_board, ring, shot
from .conftest import server_env
from .server import Server

ANNA = "+13125550187"


@pytest.fixture
def twilio() -> Iterator[TwilioApi]:
    with TwilioApi(AUTH_TOKEN) as api:
        yield api
    assert not api.breaches, api.breaches


@pytest.fixture
def board_server(live_database_url: str, tmp_path: Path, twilio: TwilioApi) -> Iterator[Server]:
    env = server_env(
        live_database_url,
        tmp_path / "instance",
        CALLERID_CALLBACKS="on",
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        CALLERID_TWILIO_API_URL=twilio.url,
    )
    live = Server(env, workers=2).start()
    yield live
    live.stop()


# One engine: the call-back's records are tested on both in tests/api/test_callbacks.py; this
# test is about the pages, the board and real HTTP (and a browser test costs seconds).
@pytest.mark.parametrize("live_database_url", ["sqlite"], indirect=True)
def test_call_back_from_the_missed_page_and_an_ended_card_with_progress_on_the_board(
    board_server, twilio, screens, live_db, desk_user
):
    add_customer(live_db, "Anna Moors", numbers=(ANNA,))
    board = open_board(screens(), board_server)
    sid = ring(board_server, ANNA)
    callback(board_server, sid, "no-answer")
    card = board.recent(sid)
    expect(card).to_have_attribute("data-state", "missed")
    count = board.page.locator("[data-missed-count]")
    expect(count).to_be_visible()

    # From the missed-calls page, which has no stream: Twilio refuses, and it says why.
    missed = Screen(board.page.context.new_page())
    missed.page.goto(board_server.url + "/missed?tz=UTC")
    twilio.refuse(21215)
    missed.page.get_by_role("button", name="Call back: Anna Moors").click()
    refused = (
        "The call-back to Anna Moors failed: This Twilio account has no permission to call "
        "that country (Voice geographic permissions in the Twilio console)."
    )
    expect(missed.page.locator("[data-call-back-status]")).to_have_text(refused)
    expect(board.page.locator("#callback-list li").first).to_have_text(refused)

    # From the ended card on the board: the desk phone rings a moment, then Anna answers.
    twilio.callees[DESK] = Callee(ring=5)
    twilio.callees[ANNA] = Callee(talk=30)
    card.get_by_role("button", name="Call back").click()
    progress = board.page.locator("#callback-list li").first
    ringing = "Calling back Anna Moors, by Anna: ringing Anna's phone"
    expect(progress).to_have_text(ringing)
    shot(board.page, "board-call-back")
    # A screen opened now shows it at once, before the call-back's next event.
    board.page.reload()
    board.wait_open()
    expect(progress).to_have_text(ringing, timeout=2000)
    expect(progress).to_have_text("Anna called back Anna Moors (30 s)")
    expect(count).to_be_hidden()  # her missed call is closed, without a reload
    expect(card).to_have_attribute("data-state", "missed")  # no new card: nobody rang us
    expect(board.page.locator("#live-cards article.card")).to_have_count(0)
    board.assert_clean()
    missed.assert_clean()
