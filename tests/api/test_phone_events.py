"""POST /api/phone/events: a phone system's calls make the same records, cards and events as
Twilio's, known by the system's own call id; safe to repeat and to reorder."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from callerid import phones
from callerid.models import Call, Event

from ..factories import add_customer, add_user, token_for

WHITFIELD = "+14155550134"
LINE = "+12025550143"


def post(client, headers, **body):
    return client.post("/api/phone/events", json=body, headers=headers)


def ring(client, headers, call_id="1001", **extra):
    body = {"event": "ringing", "call_id": call_id, "from": WHITFIELD, "to": LINE, **extra}
    return post(client, headers, **body)


def events(session) -> list[tuple[str, dict]]:
    session.expire_all()
    rows = session.scalars(select(Event).order_by(Event.id))
    return [(row.kind, json.loads(row.data)) for row in rows]


def the_call(session) -> Call:
    session.expire_all()
    return session.scalars(select(Call)).one()


def test_a_ringing_call_pops_the_callers_card_and_is_stored_with_its_source(client, session, phone):
    eleanor = add_customer(session, "Eleanor Whitfield", numbers=(WHITFIELD,), is_vip=True)
    response = ring(client, phone, "1700000000.42", **{"from": "(415) 555-0134"})
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["recorded"] is True and answer["status"] == "ringing"
    ((kind, card),) = events(session)
    assert kind == "call.ringing"
    assert card["customer"]["id"] == eleanor.id and card["customer"]["vip"] is True
    assert card["greeting"] == "Welcome back, Eleanor" and card["to"] == LINE
    call = the_call(session)
    assert (call.source, call.source_call_id) == ("3CX", "1700000000.42")
    assert call.call_sid == answer["call_sid"] == card["call_sid"]
    assert call.call_sid.startswith("PX") and "1700000000.42" not in call.call_sid


def test_an_answered_then_ended_call_is_logged_as_answered_by_the_extension(
    client, session, phone, staff
):
    ring(client, phone, at="2026-11-18T14:59:30Z")
    post(
        client,
        phone,
        event="answered",
        call_id="1001",
        answered_by="Anna (101)",
        at="2026-11-18T14:59:38Z",
    )
    done = post(client, phone, event="ended", call_id="1001", at="2026-11-18T10:02:38-05:00")
    assert done.get_json()["is_missed"] is False
    assert [kind for kind, _ in events(session)] == ["call.ringing", "call.answered", "call.ended"]
    (logged,) = client.get("/api/calls", headers=staff).get_json()["calls"]
    assert logged["answered_by"] == "Anna (101)" and logged["status"] == "completed"
    assert logged["duration"] == 180


def test_a_call_that_ends_unanswered_is_missed_and_waits_for_a_call_back(
    client, session, phone, staff
):
    add_customer(session, "Eleanor Whitfield", numbers=(WHITFIELD,))
    ring(client, phone)
    post(client, phone, event="ended", call_id="1001")
    (_, ended) = events(session)[-1]
    assert ended["is_missed"] is True
    waiting = client.get("/api/missed", headers=staff).get_json()
    assert [g["call_sid"] for g in waiting["groups"]] == [the_call(session).call_sid]


def test_repeated_events_record_and_announce_nothing_new(client, session, phone):
    for _ in range(2):
        ring(client, phone)
        post(client, phone, event="answered", call_id="1001", answered_by="101")
        post(client, phone, event="ended", call_id="1001")
    assert [kind for kind, _ in events(session)] == ["call.ringing", "call.answered", "call.ended"]
    assert the_call(session).status == "completed"


def test_events_out_of_order_end_where_they_would_in_order(client, session, phone):
    """The end arrives first: the call is logged (no ringing card for a call that is over);
    the late ringing changes nothing; the late answer turns a missed call into an answered one."""
    post(client, phone, event="ended", call_id="1001", **{"from": WHITFIELD})
    assert the_call(session).is_missed is True
    ring(client, phone)
    post(client, phone, event="answered", call_id="1001", answered_by="102")
    call = the_call(session)
    assert (call.status, call.is_missed, call.answered_by) == ("completed", False, "102")
    assert [kind for kind, _ in events(session)] == ["call.ended", "call.ended"]


def answer(client, headers, who: str, at: str):
    return post(client, headers, event="answered", call_id="1001", answered_by=who, at=at)


def test_a_transfer_hands_the_call_to_whoever_answered_last(client, session, phone):
    ring(client, phone)
    answer(client, phone, "101", "2026-11-18T14:59:10Z")
    answer(client, phone, "Kitchen (205)", "2026-11-18T14:59:40Z")
    answer(client, phone, "101", "2026-11-18T14:59:10Z")  # a late copy of the first answer
    kinds_and_who = [(kind, card["answered_by"]) for kind, card in events(session)]
    assert kinds_and_who == [
        ("call.ringing", ""),
        ("call.answered", "101"),
        ("call.answered", "Kitchen (205)"),
    ]


def test_a_call_from_an_internal_extension_gets_no_card(client, session, phone):
    response = ring(client, phone, **{"from": "204"})
    assert response.status_code == 200
    assert response.get_json()["recorded"] is False
    assert events(session) == []
    assert session.scalars(select(Call)).all() == []


def test_a_number_that_cannot_be_read_is_kept_raw_and_never_matched(client, session, phone):
    add_customer(session, "Eleanor Whitfield", numbers=(WHITFIELD,))
    ring(client, phone, **{"from": "+1 (415) 555-01xx"})
    call = the_call(session)
    assert (call.from_number, call.raw_from, call.customer_id) == (None, "+1 (415) 555-01xx", None)


def test_two_phone_systems_may_use_the_same_call_id(client, session, phone):
    other = token_for(session, add_user(session, "annex"), kind="phone", source="FreePBX")
    ring(client, phone, "7")
    ring(client, {"Authorization": f"Bearer {other}"}, "7")
    session.expire_all()
    sources = sorted(call.source for call in session.scalars(select(Call)))
    assert sources == ["3CX", "FreePBX"]


def test_ids_and_extensions_sent_as_json_numbers_are_read_as_text(client, session, phone):
    post(client, phone, event="ringing", call_id=1001, **{"from": WHITFIELD})
    post(client, phone, event="answered", call_id="1001", answered_by=205)
    call = the_call(session)
    assert (call.source_call_id, call.answered_by) == ("1001", "205")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"event": "hangup", "call_id": "1"}, "event"),
        ({"event": "ringing"}, "call_id"),
        ({"event": "ringing", "call_id": "  "}, "call_id"),
        ({"event": "ringing", "call_id": "x" * 121}, "call_id"),
        ({"event": "ringing", "call_id": "1", "at": "2026-11-18T15:00:00"}, "at"),
        ({"event": "ringing", "call_id": "1", "at": "yesterday"}, "at"),
        ({"event": "ringing", "call_id": "1", "at": 1763478000}, "at"),
        # Valid ISO 8601, but before year 1 or after 9999 once in UTC: a 500 (OverflowError).
        ({"event": "ringing", "call_id": "1", "at": "0001-01-01T00:00:00+01:00"}, "at"),
        ({"event": "ringing", "call_id": "1", "at": "9999-12-31T23:59:59-01:00"}, "at"),
        ({"event": "ringing", "call_id": "1", "from": ["+14155550134"]}, "from"),
        (["ringing"], "body"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_a_bad_event_is_refused_naming_the_field(client, session, phone, body, field):
    response = client.post("/api/phone/events", json=body, headers=phone)
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == field
    assert events(session) == []


def test_a_body_that_is_not_json_is_refused(client, phone):
    response = client.post("/api/phone/events", data="event=ringing", headers=phone)
    assert (response.status_code, response.get_json()["error"]["field"]) == (400, "body")


def test_an_extension_is_told_from_a_number_by_its_length():
    assert phones.is_internal("101") and phones.is_internal("*97")
    assert not phones.is_internal("+14155550134") and not phones.is_internal("")
    assert not phones.is_internal("anonymous") and not phones.is_internal("4155550134")
