"""POST /twilio/voice: signed requests in, a Dial to the desk out, the call recorded once."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from callerid import screens
from callerid.db import utcnow
from callerid.models import Call, Event, Note
from callerid.telephony.signature import RETRY_FRAGMENT

from ..conftest import DESK
from ..factories import add_call, add_customer
from ..twilio import post_signed, sample


def dial_of(response) -> ET.Element:
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    dial = ET.fromstring(response.data).find("Dial")
    assert dial is not None, response.data
    return dial


def test_known_caller_is_connected_and_recognised(client, session):
    anna = add_customer(session, "Anna Moors", numbers=("+13125550187",), salutation="Mrs.")
    response = post_signed(client, "/twilio/voice", sample("voice-inbound-us"))
    dial = dial_of(response)
    assert dial.get("answerOnBridge") == "true"
    assert dial.get("callerId") == "+13125550187"
    assert dial.find("Number").text == DESK
    status_url = f"http://localhost/twilio/status#{RETRY_FRAGMENT}"
    assert dial.find("Number").get("statusCallback") == status_url
    assert dial.get("action") == status_url  # /twilio/dial once CALLERID_ACTION_ROUTES is on
    call = session.scalar(select(Call))
    assert call.customer_id == anna.id
    assert call.matched_by == "number"
    assert call.line.number == "+12025550143"


@pytest.mark.parametrize(
    "raw_from", ["(312) 555-0187", "312.555.0187", "+1 312-555-0187", "0013125550187"]
)
def test_caller_is_recognised_whatever_the_number_format(client, session, raw_from):
    anna = add_customer(session, "Anna Moors", numbers=("+13125550187",))
    post_signed(client, "/twilio/voice", sample("voice-inbound-us", From=raw_from))
    call = session.scalar(select(Call))
    assert call.from_number == "+13125550187"
    assert call.customer_id == anna.id


def test_retried_voice_webhook_records_nothing_new(client, session):
    params = sample("voice-inbound-us")
    first = post_signed(client, "/twilio/voice", params)
    second = post_signed(client, "/twilio/voice", params)
    assert first.data == second.data
    assert session.scalar(select(func.count()).select_from(Call)) == 1
    assert session.scalar(select(func.count()).select_from(Event)) == 1


def test_withheld_caller_is_connected_without_a_caller_id(client, session):
    add_customer(session, "Someone", numbers=("+13125550187",))
    dial = dial_of(post_signed(client, "/twilio/voice", sample("voice-withheld")))
    assert dial.get("callerId") is None
    call = session.scalar(select(Call))
    assert call.caller_kind == "withheld"
    assert call.from_number is None
    assert call.customer_id is None


def test_ringing_event_carries_the_greeting_card(client, session):
    add_customer(
        session,
        "Anna Moors",
        numbers=("+13125550187",),
        salutation="Mrs.",
        is_vip=True,
        notes="Allergic to nuts",
    )
    post_signed(client, "/twilio/voice", sample("voice-inbound-us"))
    event = session.scalar(select(Event))
    card = json.loads(event.data)
    assert event.kind == "call.ringing"
    assert card["greeting"] == "Welcome back, Mrs. Moors"
    assert card["from"] == "+13125550187"
    assert card["to"] == "+12025550143"
    assert card["customer"]["name"] == "Anna Moors"
    assert card["customer"]["vip"] is True
    assert card["customer"]["notes"] == "Allergic to nuts"
    assert card["also"] == []


def test_unknown_international_caller_gets_a_card_that_says_where_from(client, session):
    post_signed(client, "/twilio/voice", sample("voice-inbound-international"))
    card = json.loads(session.scalar(select(Event.data)))
    assert card["customer"] is None
    assert card["greeting"] == "Thank you for calling"
    assert card["caller"]["display"] == "+44 20 7946 0321"
    assert card["caller"]["country"] == "United Kingdom"


def test_shared_number_leads_with_the_last_caller_and_names_the_others(client, session):
    tom = add_customer(session, "Tom Moors", numbers=("+13125550187",))
    anna = add_customer(session, "Anna Moors", numbers=("+13125550187",))
    add_call(session, anna, at=utcnow() - timedelta(days=2))
    post_signed(client, "/twilio/voice", sample("voice-inbound-us"))
    card = json.loads(session.scalar(select(Event.data)))
    assert card["customer"]["id"] == anna.id
    assert card["also"] == [{"id": tom.id, "name": "Tom Moors"}]
    sid = sample("voice-inbound-us")["CallSid"]
    assert session.scalar(select(Call.matched_by).where(Call.call_sid == sid)) == "shared"


@pytest.mark.parametrize("missing", ["CallSid", "From"])
def test_a_webhook_without_callsid_or_from_is_a_bad_request(client, session, missing):
    response = post_signed(client, "/twilio/voice", sample("voice-inbound-us", **{missing: None}))
    assert response.status_code == 400
    # TwiML, as Twilio expects on this route; the reason is in a comment for whoever reads it.
    assert response.mimetype == "text/xml"
    assert missing in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Call)) == 0


def test_an_empty_from_is_a_withheld_caller(client, session):
    dial = dial_of(post_signed(client, "/twilio/voice", sample("voice-inbound-us", From="")))
    assert dial.get("callerId") is None
    assert session.scalar(select(Call.caller_kind)) == "withheld"


def test_sip_and_client_desks_are_dialled_with_the_right_noun(app, client):
    app.config["CALLERID_FORWARD_TO"] = "client:frontdesk"
    dial = dial_of(post_signed(client, "/twilio/voice", sample("voice-inbound-us")))
    assert dial.find("Client").text == "frontdesk"
    app.config["CALLERID_FORWARD_TO"] = "sip:desk@pbx.example.com"
    params = sample("voice-inbound-us", CallSid="CA" + "1" * 32)
    dial = dial_of(post_signed(client, "/twilio/voice", params))
    assert dial.find("Sip").text == "sip:desk@pbx.example.com"


def test_without_a_desk_number_the_caller_hears_a_message_not_an_error(app, client):
    app.config["CALLERID_FORWARD_TO"] = None
    response = post_signed(client, "/twilio/voice", sample("voice-inbound-us"))
    root = ET.fromstring(response.data)
    assert response.status_code == 200
    assert root.find("Say") is not None
    assert root.find("Hangup") is not None


def test_each_caller_is_shown_to_the_desk_with_their_own_number(client):
    first = post_signed(client, "/twilio/voice", sample("voice-inbound-us"))
    second = post_signed(client, "/twilio/voice", sample("voice-inbound-international"))
    withheld = post_signed(client, "/twilio/voice", sample("voice-withheld"))
    assert dial_of(first).get("callerId") == "+13125550187"
    assert dial_of(second).get("callerId") == "+442079460321"
    assert dial_of(withheld).get("callerId") is None


def test_a_signature_with_odd_characters_is_refused_not_an_error(client):
    params = sample("voice-inbound-us")
    response = client.post("/twilio/voice", data=params, headers={"X-Twilio-Signature": "é∂ƒ"})
    assert response.status_code == 403


def test_the_ringing_card_is_the_card_the_board_rebuilds_for_the_call(client, session):
    anna = add_customer(
        session,
        "Anna Moors",
        numbers=("+13125550187", "+13125550100"),
        salutation="Mrs.",
        tags="regular, window table",
        birthday=(utcnow() + timedelta(days=2)).date().replace(year=1980),
    )
    tom = add_customer(session, "Tom Moors", numbers=("+13125550187",))
    earlier = [add_call(session, anna, at=utcnow() - timedelta(days=d)) for d in (1, 3, 5, 9)]
    session.add(Note(call_id=earlier[0].id, customer_id=anna.id, body="Booked for four"))
    session.add(Note(call_id=earlier[0].id, customer_id=anna.id, body="Asked for the terrace"))
    session.commit()
    post_signed(client, "/twilio/voice", sample("voice-inbound-us"))
    ringing = json.loads(session.scalar(select(Event.data)))
    call = session.scalar(select(Call).where(Call.call_sid == ringing["call_sid"]))
    assert ringing == screens.card(session, call, "US", today=utcnow().date())
    assert ringing["customer"]["calls_count"] == 4
    assert [c["notes"] for c in ringing["customer"]["recent_calls"]] == [
        ["Booked for four", "Asked for the terrace"],
        [],
        [],
    ]
    assert ringing["customer"]["numbers"] == ["+13125550187", "+13125550100"]
    assert ringing["customer"]["tags"] == ["regular", "window table"]
    assert ringing["customer"]["occasion"] == "Birthday in 2 days"
    assert ringing["also"] == [{"id": tom.id, "name": "Tom Moors"}]
