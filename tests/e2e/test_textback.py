"""The "sorry we missed you" text on the missed-calls page, in a real browser: what became of it
shows on its caller's row. Its sending and statuses are tested in-process on both engines
(tests/telephony/test_textback.py, test_text_status.py); this is about the page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from callerid.db import utcnow
from callerid.models import Call, TextSent

from ..factories import add_customer
from .browser import LINE, Screen, callback, log_in, ring, shot

ANNA = "+13125550187"


@pytest.mark.parametrize("live_database_url", ["sqlite"], indirect=True)
def test_the_missed_calls_page_says_what_became_of_the_text(
    board_server, screens, live_db, desk_user
):
    anna = add_customer(live_db, "Anna Moors", numbers=(ANNA,))
    sid = ring(board_server, ANNA)
    callback(board_server, sid, "no-answer")
    call = live_db.scalars(select(Call).where(Call.call_sid == sid)).one()
    # As the sender leaves it once Twilio reported the carrier's refusal.
    live_db.add(
        TextSent(
            call_id=call.id,
            customer_id=anna.id,
            number=ANNA,
            sender=LINE,
            body="Hi Anna, sorry we missed your call.",
            status="undelivered",
            error_code=30007,
            error="The carrier filtered the text as spam.",
            due_at=utcnow(),
            created_at=utcnow(),
            sent_at=utcnow(),
        )
    )
    live_db.commit()
    screen = Screen(screens().new_page())
    log_in(screen.page, board_server, desk_user)
    screen.page.goto(board_server.url + "/missed?tz=UTC")
    row = screen.page.locator(f'li.missed__item[data-call-sid="{sid}"]')
    expect(row.locator(".missed__text")).to_have_text(
        "Our text Text undelivered: The carrier filtered the text as spam."
    )
    shot(screen.page, "missed-page-text")
    screen.assert_clean()
