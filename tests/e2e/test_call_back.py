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
from .browser import callback, open_board, ring, shot
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


def test_an_ended_card_calls_back_and_the_board_follows(
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

    twilio.callees[DESK] = Callee(ring=1.5)  # the desk phone rings a moment: progress shows
    twilio.callees[ANNA] = Callee(talk=30)
    card.get_by_role("button", name="Call back").click()
    progress = board.page.locator("#callback-list li").first
    expect(progress).to_contain_text("Calling back Anna Moors, by Anna")
    shot(board.page, "board-call-back")
    expect(progress).to_have_text("Anna called back Anna Moors (30 s)")
    expect(count).to_be_hidden()  # her missed call is closed, without a reload
    expect(card).to_have_attribute("data-state", "missed")  # no new card: nobody rang us

    twilio.refuse(21215)
    card.get_by_role("button", name="Call back").click()
    expect(board.page.locator("#callback-list li").first).to_have_text(
        "The call-back to Anna Moors failed: This Twilio account has no permission to call "
        "that country (Voice geographic permissions in the Twilio console)."
    )
    expect(board.page.locator("#live-cards article.card")).to_have_count(0)
    board.assert_clean()
