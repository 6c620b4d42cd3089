"""The legs of a call-back as Twilio reports them: late, repeated and out of order, or with the
database gone. (The whole call-back, end to end against the Twilio stand-in, is in
tests/api/test_callbacks.py.)"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select

from callerid import callbacks, create_app, db
from callerid.models import Callback, Event
from callerid.telephony import recorder, replayer

from ..conftest import DESK, settings_for
from ..factories import add_call, add_customer, add_user
from ..twilio import post_signed, sample

ANNA = "+14155550134"
STAFF_LEG = "CA" + "a" * 32
CUSTOMER_LEG = "CA" + "b" * 32


@pytest.fixture
def started(session) -> Callback:
    anna = add_customer(session, "Anna Moors", numbers=(ANNA,))
    call = add_call(session, anna, status="no-answer", is_missed=True)
    callback = callbacks.start(session, call.call_sid, add_user(session), DESK, "US")
    callbacks.placed(session, callback.id, STAFF_LEG)
    session.commit()
    return callback


def leg(callback_id: int, status: str, *, customer: bool = False, **more: str):
    params = sample("status-child-leg", CallStatus=status, **more)
    if customer:
        params.update(CallSid=CUSTOMER_LEG, ParentCallSid=STAFF_LEG, To=ANNA)
    else:
        params.update(CallSid=STAFF_LEG, Direction="outbound-api", To=DESK)
        params.pop("ParentCallSid")
    return params


def report(client, callback_id: int, params) -> int:
    return post_signed(client, f"/twilio/callback/status?id={callback_id}", params).status_code


def ended_events(session) -> int:
    session.rollback()
    return len(session.scalars(select(Event).where(Event.kind == "callback.ended")).all())


def test_the_staff_member_hears_whom_they_call_then_the_customer_rings(client, session, started):
    answer = post_signed(
        client, f"/twilio/callback?id={started.id}", leg(started.id, "in-progress")
    )
    document = ET.fromstring(answer.data)
    assert document.find("Say").text == "Calling back Anna Moors."
    dial = document.find("Dial")
    assert (dial.get("callerId"), dial.find("Number").text) == ("+12025550143", ANNA)
    assert "/twilio/callback/status?id=" in dial.find("Number").get("statusCallback")


def test_reports_out_of_order_end_the_call_back_once_as_talked(client, session, started):
    post_signed(client, f"/twilio/callback?id={started.id}", leg(started.id, "in-progress"))
    assert report(client, started.id, leg(started.id, "in-progress", customer=True)) == 204
    assert report(client, started.id, leg(started.id, "completed")) == 204  # staff hung up
    late = leg(started.id, "completed", customer=True, CallDuration="12")
    assert report(client, started.id, late) == 204
    assert report(client, started.id, leg(started.id, "completed")) == 204  # repeated
    session.refresh(started)
    assert (started.status, started.outcome) == ("ended", "talked")
    assert ended_events(session) == 1


def test_a_customer_leg_reported_completed_without_its_answer_still_counts(
    client, session, started
):
    done = leg(started.id, "completed", customer=True, CallDuration="7")
    assert report(client, started.id, done) == 204
    session.refresh(started)
    assert (started.outcome, started.duration, started.answered_at is not None) == (
        "talked",
        7,
        True,
    )


def test_a_staff_leg_answered_after_the_call_back_ended_is_hung_up_on(client, session, started):
    report(client, started.id, leg(started.id, "no-answer"))
    answer = post_signed(
        client, f"/twilio/callback?id={started.id}", leg(started.id, "in-progress")
    )
    document = ET.fromstring(answer.data)
    assert document.find("Say").text == "This call-back is over. Goodbye."
    assert document.find("Hangup") is not None
    session.refresh(started)
    assert started.outcome == "staff-missed"


@pytest.mark.parametrize("path", ["/twilio/callback", "/twilio/callback/status"])
def test_a_request_without_the_call_backs_id_is_refused(client, path):
    assert post_signed(client, path, leg(1, "ringing")).status_code == 400
    assert post_signed(client, path + "?id=1", {"CallStatus": "ringing"}).status_code == 400


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_status_the_database_cannot_take_now_is_spooled_and_applied_later(
    app, client, session, started, locked
):
    answer = report(client, started.id, leg(started.id, "no-answer"))
    replayer.stop(app)  # the test applies the spool itself
    locked.rollback()
    assert answer == 204  # stored, in the spool, with the call-back's id from the URL
    assert recorder.replay(app) == (1, None)
    assert ended_events(session) == 1
    session.expire_all()
    assert session.get(Callback, started.id).ended_at is not None


def test_a_status_that_can_be_neither_stored_nor_spooled_is_not_acknowledged(tmp_path):
    url = f"sqlite:///{tmp_path / 'missing-folder' / 'callerid.sqlite3'}"
    (tmp_path / "not-a-folder").write_text("")
    app = create_app(
        settings_for(
            url, tmp_path / "instance", CALLERID_SPOOL_PATH=str(tmp_path / "not-a-folder" / "s")
        )
    )
    answer = report(app.test_client(), 1, leg(1, "completed"))
    replayer.stop(app)
    db.engine_for(app).dispose()
    assert answer == 503  # Twilio must not take it as stored


def test_a_call_that_came_in_on_no_number_cannot_be_returned(session):
    call = add_call(session, status="no-answer", is_missed=True)
    call.line = None
    session.commit()
    with pytest.raises(callbacks.CannotCallBack, match="no line to call from"):
        callbacks.start(session, call.call_sid, add_user(session), DESK, "US")


def test_erasing_the_customer_forgets_whom_the_call_back_called(session, started, client):
    from callerid.directory.erase import erase

    erase(session, started.customer_id, actor="boss")
    session.commit()
    session.refresh(started)
    assert (started.number, started.customer_id, started.outcome) == ("", None, "lost")
    assert started.by == "desk"  # who called stays, like who answered a call
    words = callbacks.payload(started, "US")["words"]
    assert words == "No news of desk's call-back to an erased caller: it is taken as over"
    session.rollback()
    assert not [e for e in session.scalars(select(Event)) if ANNA in e.data]


def test_retention_forgets_old_call_backs_too(session, started):
    from datetime import timedelta

    from callerid.db import utcnow
    from callerid.history import retention

    retention.anonymise_older_than(session, utcnow() + timedelta(seconds=1), actor="cli")
    session.commit()
    session.refresh(started)
    assert (started.number, started.status) == ("", "ended")
