"""A caller texts back after a missed call: the board shows it on that call's card, live, in a
real browser against real gunicorn."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ..factories import add_customer
from ..twilio import sample
from .browser import callback, open_board, post_signed, ring


@pytest.mark.parametrize("live_database_url", ["sqlite"], indirect=True)
def test_a_text_after_a_missed_call_shows_on_its_card(board_server, screens, live_db, desk_user):
    add_customer(live_db, "Anna Moors", numbers=("+14155550134",))
    board = open_board(screens(), board_server)
    sid = ring(board_server, "+14155550134")
    callback(board_server, sid, "no-answer")
    card = board.recent(sid)
    expect(card).to_have_attribute("data-state", "missed")

    answer = post_signed(board_server, "/twilio/sms", sample("sms-inbound"))
    assert answer.status_code == 200, board_server.log()[-2000:]
    expect(card.locator('[data-slot="reply"]')).to_have_text(
        "Texted back: “Hi, sorry I missed you! Can I book a table for 4 at 8pm?”"
    )
    board.assert_clean()
