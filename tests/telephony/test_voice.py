"""POST /twilio/voice: signed requests in, a Dial to the desk out, the call recorded once."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import func, select

from callerid.models import Call, Event

from ..conftest import DESK
from ..factories import add_customer
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
    assert dial.find("Number").get("statusCallback") == "http://localhost/twilio/status"
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
