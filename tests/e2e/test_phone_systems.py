"""A phone system other than Twilio, end to end: its events posted to real gunicorn pop cards on
a real browser board, land in the call log and the missed calls, and its look-ups answer."""

from __future__ import annotations

import uuid

import requests
from playwright.sync_api import expect

from ..factories import add_customer, add_user, token_for
from .browser import open_board, shot

WHITFIELD = "+14155550134"
LINE = "+12025550143"


def post_event(server, token: str, event: str, call_id: str, **body: str) -> dict:
    response = requests.post(
        server.url + "/api/phone/events",
        json={"event": event, "call_id": call_id, "to": LINE, **body},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_a_phone_systems_calls_pop_cards_and_fill_the_log_and_missed_calls(
    board_server, screens, live_db, desk_user
):
    add_customer(live_db, "Eleanor Whitfield", numbers=(WHITFIELD,), is_vip=True)
    pbx = token_for(live_db, add_user(live_db, "pbx"), kind="phone", source="3CX")
    reader = token_for(live_db, add_user(live_db, "wallboard"))
    board = open_board(screens(), board_server)

    answered = f"{uuid.uuid4()}"
    sid = post_event(board_server, pbx, "ringing", answered, **{"from": "(415) 555-0134"})[
        "call_sid"
    ]
    card = board.live(sid)
    expect(card).to_have_attribute("data-state", "ringing")
    expect(card).to_contain_text("Eleanor Whitfield")
    post_event(board_server, pbx, "answered", answered, answered_by="101")
    expect(card).to_have_attribute("data-state", "answered")
    expect(card).to_contain_text("Answered by extension 101")
    post_event(board_server, pbx, "answered", answered, answered_by="Kitchen")  # a transfer
    expect(card).to_contain_text("Answered by Kitchen")
    shot(board.page, "board-phone-system-transfer")
    post_event(board_server, pbx, "ended", answered)

    missed = f"{uuid.uuid4()}"
    other = post_event(board_server, pbx, "ringing", missed, **{"from": "+1 312 555 0187"})
    expect(board.live(other["call_sid"])).to_have_attribute("data-state", "ringing")
    assert post_event(board_server, pbx, "ended", missed)["is_missed"] is True
    expect(board.recent(other["call_sid"])).to_have_attribute("data-state", "missed")
    expect(board.page.locator("[data-missed-number]")).to_have_text("1")
    board.assert_clean()

    headers = {"Authorization": f"Bearer {reader}"}
    log = requests.get(board_server.url + "/api/calls", headers=headers, timeout=10).json()
    assert [(c["call_sid"], c["answered_by"]) for c in log["calls"]] == [
        (other["call_sid"], ""),
        (sid, "Kitchen"),
    ]
    waiting = requests.get(board_server.url + "/api/missed", headers=headers, timeout=10).json()
    assert [g["call_sid"] for g in waiting["groups"]] == [other["call_sid"]]

    lookup = board_server.url + "/api/phone/lookup"
    as_pbx = {"Authorization": f"Bearer {pbx}"}
    found = requests.get(lookup, params={"number": WHITFIELD}, headers=as_pbx, timeout=10)
    assert found.json()["name"] == "Eleanor Whitfield"
    shown = requests.get(
        lookup, params={"number": WHITFIELD, "format": "text"}, headers=as_pbx, timeout=10
    )
    assert shown.text == "E.Whitfield VIP"
