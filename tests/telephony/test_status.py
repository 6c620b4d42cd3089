"""POST /twilio/status: callbacks move a call forward only, whatever order they arrive in."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import event, select

from callerid import db
from callerid.models import Call, Event
from callerid.telephony import recorder
from callerid.telephony.signature import RETRY_FRAGMENT

from ..twilio import post_signed, sample, status_sequence

INBOUND = sample("voice-inbound-us")["CallSid"]


def wait_until(condition, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.05)


def ring(client) -> None:
    assert post_signed(client, "/twilio/voice", sample("voice-inbound-us")).status_code == 200


def call_of(session) -> Call:
    session.expire_all()
    return session.scalars(select(Call).where(Call.call_sid == INBOUND)).one()


def event_kinds(session) -> list[str]:
    return list(session.scalars(select(Event.kind).order_by(Event.id)))


def test_callbacks_in_order_answer_then_end_the_call(client, session):
    ring(client)
    for callback in status_sequence():
        assert post_signed(client, "/twilio/status", callback).status_code == 204
    call = call_of(session)
    assert call.status == "completed"
    assert call.answered_at is not None
    assert call.duration == 94
    assert call.is_missed is False
    assert event_kinds(session) == ["call.ringing", "call.answered", "call.ended"]


def test_late_ringing_after_completed_changes_nothing(client, session):
    ring(client)
    ringing, answered, completed = status_sequence()
    for callback in (answered, completed, ringing, answered):
        post_signed(client, "/twilio/status", callback)
    call = call_of(session)
    assert call.status == "completed"
    assert event_kinds(session) == ["call.ringing", "call.answered", "call.ended"]


def test_repeated_completed_is_announced_once(client, session):
    ring(client)
    completed = status_sequence()[2]
    for _ in range(3):
        post_signed(client, "/twilio/status", completed)
    assert event_kinds(session) == ["call.ringing", "call.ended"]


def test_a_call_that_ends_unanswered_is_missed(client, session):
    ring(client)
    post_signed(client, "/twilio/status", dict(status_sequence()[2], CallStatus="no-answer"))
    call = call_of(session)
    assert call.is_missed is True
    ended = json.loads(session.scalars(select(Event.data).order_by(Event.id.desc())).first())
    assert ended["is_missed"] is True


def test_desk_leg_answering_marks_the_inbound_call_answered(client, session):
    ring(client)
    response = post_signed(client, "/twilio/status", sample("status-child-leg"))
    assert response.status_code == 204
    call = call_of(session)
    assert call.status == "in-progress"
    assert call.desk_call_sid == sample("status-child-leg")["CallSid"]
    assert call.answered_by == "+12025550199"
    assert event_kinds(session) == ["call.ringing", "call.answered"]


def test_desk_leg_by_client_is_answered_by_that_person(client, session):
    ring(client)
    post_signed(client, "/twilio/status", sample("status-child-leg", To="client:anna"))
    assert call_of(session).answered_by == "anna"


def test_desk_leg_ringing_and_repeats_change_nothing(client, session):
    ring(client)
    leg = sample("status-child-leg")
    post_signed(client, "/twilio/status", dict(leg, CallStatus="ringing", SequenceNumber="0"))
    post_signed(client, "/twilio/status", leg)
    post_signed(client, "/twilio/status", leg)
    assert event_kinds(session) == ["call.ringing", "call.answered"]


def test_nobody_answering_plays_the_message_and_marks_the_call_missed(client, session):
    ring(client)
    response = post_signed(client, "/twilio/status", sample("dial-action-no-answer"))
    assert response.status_code == 200
    root = ET.fromstring(response.data)
    assert "call you back" in root.find("Say").text
    assert root.find("Hangup") is not None
    call = call_of(session)
    assert call.is_missed is True
    assert call.status == "no-answer"
    assert event_kinds(session) == ["call.ringing", "call.ended"]


def test_voicemail_follows_the_message_when_enabled(app, client, session):
    app.config["CALLERID_VOICEMAIL"] = True
    ring(client)
    root = ET.fromstring(
        post_signed(client, "/twilio/status", sample("dial-action-no-answer")).data
    )
    record = root.find("Record")
    assert record is not None
    # Until every instance has /twilio/voicemail (CALLERID_ACTION_ROUTES), TwiML names /status.
    assert record.get("action") == f"http://localhost/twilio/status#{RETRY_FRAGMENT}"
    recorded = sample("dial-action-no-answer", DialCallStatus=None, RecordingUrl="https://x/r.wav")
    after = post_signed(client, "/twilio/status", recorded)
    assert ET.fromstring(after.data).find("Hangup") is not None
    assert call_of(session).is_missed is True
    assert call_of(session).voicemail_url == "https://x/r.wav"


def test_with_action_routes_the_dial_action_and_voicemail_have_their_own(app, client, session):
    app.config.update(CALLERID_VOICEMAIL=True, CALLERID_ACTION_ROUTES=True)
    ring(client)
    dial = ET.fromstring(post_signed(client, "/twilio/voice", sample("voice-inbound-us")).data)
    assert dial.find("Dial").get("action") == f"http://localhost/twilio/dial#{RETRY_FRAGMENT}"
    no_answer = sample("dial-action-no-answer")
    root = ET.fromstring(post_signed(client, "/twilio/dial", no_answer).data)
    assert root.find("Record").get("action") == (
        f"http://localhost/twilio/voicemail#{RETRY_FRAGMENT}"
    )
    recorded = sample("dial-action-no-answer", DialCallStatus=None, RecordingUrl="https://x/r.wav")
    after = post_signed(client, "/twilio/voicemail", recorded)
    assert ET.fromstring(after.data).find("Hangup") is not None
    call = call_of(session)
    assert (call.status, call.is_missed, call.voicemail_url) == (
        "no-answer",
        True,
        recorded["RecordingUrl"],
    )
    # Each route checks the parameters Twilio always sends on it.
    assert post_signed(client, "/twilio/dial", {"CallSid": INBOUND}).status_code == 400
    assert post_signed(client, "/twilio/voicemail", {"CallSid": INBOUND}).status_code == 400


def test_an_answered_dial_hangs_up_and_counts_as_answered(client, session):
    ring(client)
    params = sample("dial-action-no-answer", DialCallStatus="completed", DialCallDuration="61")
    response = post_signed(client, "/twilio/status", params)
    assert ET.fromstring(response.data).find("Hangup") is not None
    call = call_of(session)
    assert call.is_missed is False
    assert call.answered_at is not None
    assert call.duration == 61


def test_a_callback_for_an_unrecorded_call_records_it(client, session):
    completed = status_sequence()[2]
    assert post_signed(client, "/twilio/status", completed).status_code == 204
    call = call_of(session)
    assert call.from_number == "+13125550187"
    assert call.status == "completed"
    # The call is over: screens get it for the recent calls, never as a ringing card.
    assert event_kinds(session) == ["call.ended"]


def test_a_desk_leg_for_an_unknown_call_is_ignored(client, session):
    assert post_signed(client, "/twilio/status", sample("status-child-leg")).status_code == 204
    assert session.scalar(select(Call)) is None


def test_answered_arriving_after_completed_still_counts_the_call_answered(client, session):
    ring(client)
    ringing, answered, completed = status_sequence()
    post_signed(client, "/twilio/status", completed)
    post_signed(client, "/twilio/status", answered)
    call = call_of(session)
    assert call.status == "completed"
    assert call.answered_at is not None
    assert call.is_missed is False
    # Screens drew the call missed when it ended; they hear it was answered after all.
    ended = session.scalars(select(Event).where(Event.kind == "call.ended").order_by(Event.id))
    cards = [json.loads(row.data) for row in ended]
    assert [card["is_missed"] for card in cards] == [True, False]
    post_signed(client, "/twilio/status", answered)  # a repeat changes nothing more
    assert event_kinds(session).count("call.ended") == 2


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_callback_that_meets_a_locked_database_waits_for_it_and_is_applied(
    app, client, session, database_url, caplog
):
    ring(client)
    path = database_url.removeprefix("sqlite:///")
    blocker = sqlite3.connect(path, check_same_thread=False)
    blocker.execute("BEGIN EXCLUSIVE")
    waited = []

    def release_once_waited(*_statement) -> None:
        # The callback really meets the lock; the other writer finishes a moment later.
        if not waited:
            waited.append(True)
            threading.Timer(0.2, blocker.rollback).start()

    event.listen(db.engine_for(app), "before_cursor_execute", release_once_waited)
    try:
        with caplog.at_level(logging.WARNING):
            response = post_signed(client, "/twilio/status", status_sequence()[2])
    finally:
        event.remove(db.engine_for(app), "before_cursor_execute", release_once_waited)
        blocker.close()
    assert response.status_code == 204
    assert call_of(session).status == "completed"
    assert event_kinds(session) == ["call.ringing", "call.ended"]
    assert recorder.spool_of(app).depth() == 0  # applied, not spooled
    assert "database failure" not in caplog.text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_callback_the_database_cannot_take_is_spooled_answered_and_applied_later(
    app, client, session, database_url, caplog
):
    app.config["CALLERID_DB_TIMEOUT"] = 0.2  # a callback waits 5 x this for the lock
    ring(client)
    blocker = sqlite3.connect(database_url.removeprefix("sqlite:///"))
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with caplog.at_level(logging.WARNING):
            response = post_signed(client, "/twilio/status", status_sequence()[2])
        assert response.status_code == 204  # stored: in the spool
        assert call_of(session).status == "ringing"
        assert recorder.spool_of(app).depth() == 1
    finally:
        blocker.rollback()
        blocker.close()
    failures = [r for r in caplog.records if "/twilio/status" in r.getMessage()]
    assert len(failures) == 1
    assert f"({status_sequence()[2]['CallSid']})" in failures[0].getMessage()
    assert "database is locked" in failures[0].getMessage()
    assert failures[0].exc_info is None
    # The process's replayer applies it once the database takes writes again.
    wait_until(lambda: recorder.spool_of(app).depth() == 0)
    assert call_of(session).status == "completed"
    assert event_kinds(session) == ["call.ringing", "call.ended"]
    assert recorder.spool_of(app).depth() == 0
