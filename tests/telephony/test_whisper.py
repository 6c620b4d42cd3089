"""The whisper: what the person who answers hears before the caller is put through.

Twilio requests the ``<Number url>`` our ``<Dial>`` names once the desk picks up; these tests
post that request, signed as Twilio signs it, and read the ``<Say>`` it answers."""

from __future__ import annotations

import socket
import time
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest

from callerid import business_settings, create_app, db
from callerid.db import utcnow
from callerid.telephony import replayer, whisper
from callerid.telephony.signature import WHISPER_FRAGMENT

from ..conftest import settings_for
from ..factories import add_call, add_customer, add_user
from ..twilio import BASE_URL, post_signed, sample, signature

ANNA = "+13125550187"  # the caller of the voice-inbound-us sample
PROMPT = 3.0  # we answer within 1 s; the margin absorbs a slow CI machine


@pytest.fixture
def whispering(app, monkeypatch):
    app.config.update(CALLERID_WHISPER=True)
    # What is said is under test here, not how fast: a loaded CI machine may take longer than
    # the real deadline for a first query (the deadline has tests of its own below).
    monkeypatch.setattr(whisper, "DEADLINE", 30.0)
    return app


def spoken(response) -> str:
    """The words of the whisper document ("" for an empty one); only <Say> may be in it."""
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    document = ET.fromstring(response.data)
    assert document.tag == "Response"
    assert {verb.tag for verb in document} <= {"Say"}
    return " ".join((say.text or "").strip() for say in document)


def answer(client, inbound: str = "voice-inbound-us", **changes: str) -> str:
    """Ring the desk with sample ``inbound``, then play the desk picking up: the whisper."""
    call = sample(inbound)
    assert post_signed(client, "/twilio/voice", call).status_code == 200
    leg = sample("whisper-answering-leg", ParentCallSid=call["CallSid"], **changes)
    return spoken(post_signed(client, "/twilio/whisper", leg))


def test_whisper_is_off_by_default(client):
    number = ET.fromstring(post_signed(client, "/twilio/voice", sample("voice-inbound-us")).data)
    assert number.find("Dial/Number").get("url") is None


def test_the_desk_leg_fetches_the_whisper_with_short_limits(whispering):
    response = post_signed(whispering.test_client(), "/twilio/voice", sample("voice-inbound-us"))
    number = ET.fromstring(response.data).find("Dial/Number")
    assert number.get("url") == f"{BASE_URL}/twilio/whisper#{WHISPER_FRAGMENT}"
    assert number.get("method") == "POST"
    assert "ct=1000" in WHISPER_FRAGMENT and "tt=2500" in WHISPER_FRAGMENT


def test_a_regular_is_named_with_their_last_call(whispering, session):
    anna = add_customer(session, "Anna Moors", numbers=(ANNA,), salutation="Mrs.")
    add_call(session, anna, at=utcnow() - timedelta(days=3, hours=2))
    assert answer(whispering.test_client()) == "Mrs. Moors. Last called 3 days ago."


def test_a_vip_with_alerts_comes_in_that_order_in_the_chosen_voice(whispering, session):
    whispering.config.update(
        CALLERID_WHISPER_VOICE="Polly.Joanna", CALLERID_WHISPER_LANGUAGE="en-GB"
    )
    anna = add_customer(
        session, "Anna Moors", numbers=(ANNA,), salutation="Mrs.", is_vip=True,
        alerts="Severe peanut allergy", notes="Never spoken: notes stay on the screen",
    )  # fmt: skip
    add_call(session, anna, at=utcnow() - timedelta(days=1, hours=1))
    call = sample("voice-inbound-us")
    post_signed(whispering.test_client(), "/twilio/voice", call)
    leg = sample("whisper-answering-leg", ParentCallSid=call["CallSid"])
    response = post_signed(whispering.test_client(), "/twilio/whisper", leg)
    assert spoken(response) == "Mrs. Moors. VIP. Severe peanut allergy. Last called yesterday."
    say = ET.fromstring(response.data).find("Say")
    assert (say.get("voice"), say.get("language")) == ("Polly.Joanna", "en-GB")


def test_the_whisper_says_only_what_the_settings_page_chose(whispering, session):
    anna = add_customer(
        session, "Anna Moors", numbers=(ANNA,), salutation="Mrs.", is_vip=True, alerts="Deaf"
    )
    add_call(session, anna, at=utcnow() - timedelta(days=1, hours=1))
    manager = add_user(session, "Maria", role="manager")
    business_settings.save(session, {"whisper_vip": False, "whisper_last_call": False}, by=manager)
    session.commit()
    assert answer(whispering.test_client()) == "Mrs. Moors. Deaf."


def test_a_new_caller_is_told_where_they_call_from(whispering):
    assert answer(whispering.test_client()) == "New caller from Chicago, IL."


def test_a_withheld_caller_is_said_to_be_withheld(whispering, session):
    add_customer(session, "Someone", numbers=(ANNA,))
    words = answer(whispering.test_client(), "voice-withheld", From="Anonymous", Caller="Anonymous")
    assert words == "Number withheld."


def test_the_whisper_stops_at_twelve_words_cutting_the_alerts(whispering, session):
    anna = add_customer(
        session, "Anna Moors", numbers=(ANNA,), preferred_name="Annie", is_vip=True,
        alerts="Severe peanut allergy, carries an epipen, seat her far from the kitchen door",
    )  # fmt: skip
    add_call(session, anna)
    words = answer(whispering.test_client())
    assert words == "Annie. VIP. Severe peanut allergy, carries an epipen, seat her far from."
    assert len(words.split()) == 12  # the last call did not fit


def test_a_customer_who_asked_not_to_be_greeted_is_not_named(whispering, session):
    add_customer(session, "Anna Moors", numbers=(ANNA,), do_not_greet=True, alerts="Deaf")
    assert answer(whispering.test_client()) == "Returning caller. Deaf."


def test_a_call_whose_ring_is_not_recorded_yet_is_read_from_the_leg(whispering, session):
    add_customer(session, "Anna Moors", numbers=(ANNA,), salutation="Mrs.")
    leg = sample("whisper-answering-leg", ParentCallSid="CA" + "9" * 32)
    assert spoken(post_signed(whispering.test_client(), "/twilio/whisper", leg)) == "Mrs. Moors."


def test_a_signature_over_the_url_with_its_fragment_is_accepted(whispering):
    leg = sample("whisper-answering-leg")
    url = f"{BASE_URL}/twilio/whisper#{WHISPER_FRAGMENT}"
    headers = {"X-Twilio-Signature": signature(url, leg)}
    response = whispering.test_client().post("/twilio/whisper", data=leg, headers=headers)
    assert spoken(response) == "New caller from Chicago, IL."


def test_an_unsigned_whisper_request_is_refused(whispering):
    response = whispering.test_client().post(
        "/twilio/whisper", data=sample("whisper-answering-leg")
    )
    assert response.status_code == 403


def test_a_database_that_never_answers_gets_an_empty_document_at_the_deadline(tmp_path, caplog):
    # A server that accepts connections and never says a word: every look-up hangs.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        url = f"postgresql+psycopg://callerid@127.0.0.1:{silent.getsockname()[1]}/callerid"
        app = create_app(settings_for(url, tmp_path / "instance", CALLERID_DB_TIMEOUT=5.0))
        started = time.monotonic()
        response = post_signed(
            app.test_client(), "/twilio/whisper", sample("whisper-answering-leg")
        )
        elapsed = time.monotonic() - started
        replayer.stop(app)
        db.engine_for(app).dispose()
    assert spoken(response) == ""
    assert "no words within 0.8 s" in caplog.text
    assert elapsed < PROMPT


def test_a_dead_database_answers_an_empty_document_within_a_second(tmp_path):
    url = f"sqlite:///{tmp_path / 'missing-folder' / 'callerid.sqlite3'}"
    app = create_app(settings_for(url, tmp_path / "instance", CALLERID_WHISPER=True))
    started = time.monotonic()
    response = post_signed(app.test_client(), "/twilio/whisper", sample("whisper-answering-leg"))
    elapsed = time.monotonic() - started
    replayer.stop(app)
    db.engine_for(app).dispose()
    assert spoken(response) == ""
    assert elapsed < PROMPT
