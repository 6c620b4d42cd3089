"""POST /twilio/status: callbacks move a call forward only, whatever order they arrive in."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from sqlalchemy import select

from callerid.models import Call, Event

from ..twilio import post_signed, sample, status_sequence

INBOUND = sample("voice-inbound-us")["CallSid"]


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
    assert record.get("action") == "http://localhost/twilio/status"
    recorded = sample("dial-action-no-answer", DialCallStatus=None, RecordingUrl="https://x/r.wav")
    after = post_signed(client, "/twilio/status", recorded)
    assert ET.fromstring(after.data).find("Hangup") is not None
    assert call_of(session).is_missed is True


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
