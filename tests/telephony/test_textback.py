"""The "sorry we missed you" text, against the tests' stand-in for Twilio's REST API: scheduled
when a call ends missed, sent at its time by ``run_due`` (once per tick, as the sender thread
calls it), or cancelled, held or dropped with a reason a manager can read."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from callerid import calls, db, textback, texts, textstatus, textwords
from callerid.db import utcnow
from callerid.models import Event, Setting, TextSent
from callerid.telephony import recorder, texting
from callerid.telephony.spool import Entry

from ..factories import add_call, add_customer, add_user, log_in
from ..twilio import post_signed, sample
from ..twilio_api import TwilioApi

ANNA = "+14155550134"
LINE = "+12025550143"
ENDED = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)  # the frozen clock's "now": mid-afternoon


def missed(session, customer=None, *, number=ANNA, ended=ENDED, rang=30, status="no-answer"):
    """A call that rang ``rang`` seconds and ended missed at ``ended``, as the webhooks end it."""
    call = add_call(session, customer, at=ended - timedelta(seconds=rang), line=LINE)
    call.status, call.answered_at, call.ended_at = "ringing", None, None
    call.from_number = number  # None: withheld
    session.commit()
    calls.progress(session, call, status, "US", at=ended, today=ended.date())
    session.commit()
    return call


def text_of(session, call) -> TextSent:
    session.rollback()
    return session.scalars(select(TextSent).where(TextSent.call_id == call.id)).one()


def setting(session, key: str, value: str) -> None:
    session.add(Setting(key=key, value=value))
    session.commit()


def sent_to(twilio: TwilioApi) -> list[str]:
    return [p.params["To"] for p in twilio.played.values() if p.sid.startswith("SM")]


def test_a_missed_call_is_texted_once_after_the_delay_and_its_delivery_shows(
    app, client, session, twilio
):
    anna = add_customer(session, "Anna Moors", numbers=(ANNA,), salutation="Mrs.")
    setting(session, "business_name", '"Chez Anna"')
    # The call's end comes in as Twilio's status callback: the text is scheduled with it.
    call = add_call(session, anna, at=ENDED - timedelta(seconds=40), status="ringing")
    call.answered_at = call.ended_at = None
    session.commit()
    end = sample("voice-inbound-us", CallSid=call.call_sid, CallStatus="no-answer")
    assert post_signed(client, "/twilio/status", end).status_code == 204
    text = text_of(session, call)
    assert (text.status, text.sender, text.number) == ("scheduled", LINE, ANNA)
    assert text.due_at - text.created_at == timedelta(minutes=2)
    assert texting.run_due(app, text.created_at + timedelta(minutes=1)) == 0
    assert texting.run_due(app, text.due_at) == 1
    assert texting.run_due(app, text.due_at + timedelta(minutes=5)) == 0  # never twice
    (played,) = twilio.played.values()
    assert (played.params["To"], played.params["From"]) == (ANNA, LINE)
    assert played.params["Body"].startswith("Hi Mrs. Moors, sorry we missed your call at Chez")
    twilio.wait_until_played(played.sid)
    text = text_of(session, call)
    assert (text.status, text.message_sid) == ("delivered", played.sid)
    add_user(session, "Maria", role="manager")
    log_in(client, "Maria")
    assert "Text delivered" in client.get("/missed").get_data(as_text=True)
    page = client.get(f"/customers/{anna.id}").get_data(as_text=True)
    assert "Our texts to them" in page and "Hi Mrs. Moors" in page


@pytest.mark.parametrize(
    ("number", "rang", "region", "reason"),
    [
        (ANNA, 3, "US", "it rang under 5 seconds"),
        (None, 30, "US", "the caller's number is withheld or invalid"),
        ("+442079460958", 30, "GB", "the number is a landline: it cannot receive texts"),
        ("+447912345678", 30, "US", "the number is in another country"),
    ],
)
def test_some_missed_calls_never_get_a_text_and_say_why(
    app, session, twilio, number, rang, region, reason
):
    app.config["CALLERID_DEFAULT_REGION"] = region
    call = missed(session, number=number, rang=rang)
    text = text_of(session, call)
    assert text.status == "dropped" and text.reason.startswith(reason)
    assert texting.run_due(app, ENDED + timedelta(hours=1)) == 0
    assert twilio.played == {}


def test_a_customer_who_asked_not_to_be_contacted_or_opted_out_gets_no_text(session, twilio):
    add_customer(session, "Ben Lowe", numbers=(ANNA,), do_not_contact=True)
    assert text_of(session, missed(session)).reason == "Ben Lowe asked not to be contacted"
    other = "+14155550177"
    texts.opt_out(session, other, "STOP", "reply", utcnow())
    session.commit()
    assert text_of(session, missed(session, number=other)).reason.startswith("the number opted")


def test_texts_from_abroad_go_out_when_the_settings_allow_it(app, session, twilio):
    setting(session, "text_other_countries", "true")
    call = missed(session, number="+447912345678")
    assert text_of(session, call).status == "scheduled"


@pytest.mark.parametrize("meanwhile", ["called back", "answered again", "opted out", "answered"])
def test_a_text_is_cancelled_when_the_caller_was_reached_or_opted_out_meanwhile(
    app, session, twilio, meanwhile
):
    # "completed" before its "in-progress" came: missed, until that late news arrives.
    call = missed(session, status="completed" if meanwhile == "answered" else "no-answer")
    if meanwhile == "called back":
        call.called_back_at, call.called_back_by = utcnow(), "Anna"
        reason = "called back by Anna"
    elif meanwhile == "answered again":
        add_call(session, from_number=ANNA, at=ENDED + timedelta(minutes=1))
        reason = "they called again and were answered"
    elif meanwhile == "opted out":
        texts.opt_out(session, ANNA, "STOP", "reply", utcnow())
        reason = "the number opted out of texts (STOP)"
    else:  # a late "in-progress": the desk had picked up after all
        calls.progress(session, call, "in-progress", "US", today=utcnow().date())
        reason = "the call was answered after all"
    session.commit()
    assert texting.run_due(app, ENDED + timedelta(minutes=3)) == 0
    text = text_of(session, call)
    assert (text.status, text.reason) == ("cancelled", reason)
    assert twilio.played == {}


def test_quiet_hours_hold_a_text_until_morning_and_12_hours_drop_it(app, session, twilio):
    evening = missed(session, ended=datetime(2026, 11, 18, 22, 0, tzinfo=UTC))
    late = missed(session, number="+14155550177", ended=datetime(2026, 11, 18, 20, 0, tzinfo=UTC))
    # The sender was away from 20:00 to 22:05: both fall due inside the quiet hours.
    assert texting.run_due(app, datetime(2026, 11, 18, 22, 5, tzinfo=UTC)) == 0
    held = text_of(session, evening)
    assert (held.status, held.reason) == ("held", "quiet hours: held until 09:00")
    assert held.due_at == datetime(2026, 11, 19, 9, 0, tzinfo=UTC)
    assert texting.run_due(app, datetime(2026, 11, 19, 9, 0, tzinfo=UTC)) == 1
    assert sent_to(twilio) == [ANNA]
    dropped = text_of(session, late)
    assert (dropped.status, dropped.reason) == (
        "dropped",
        "more than 12 hours after the call: too late to text",
    )


def test_one_text_per_number_within_the_cooldown(app, session, twilio):
    first = missed(session)
    second = missed(session, ended=ENDED + timedelta(minutes=10))
    assert texting.run_due(app, ENDED + timedelta(minutes=20)) == 1
    assert text_of(session, first).sent_at is not None
    assert text_of(session, second).reason == "this number was texted in the last 24 hours"
    third = missed(session, ended=ENDED + timedelta(hours=25))
    assert texting.run_due(app, ENDED + timedelta(hours=26)) == 1
    assert text_of(session, third).message_sid is not None


def test_the_daily_cap_stops_texts_and_says_so(app, session, twilio):
    setting(session, "daily_cap", "1")
    missed(session)
    capped = missed(session, number="+14155550177")
    zone = textback.options(app.config).zone
    settings = textback.business_settings.load(session)
    assert not textstatus.cap_reached_today(session, settings, zone, ENDED)
    assert texting.run_due(app, ENDED + timedelta(minutes=5)) == 1
    assert text_of(session, capped).reason == "the daily cap of 1 texts was reached"
    assert textstatus.cap_reached_today(session, settings, zone, ENDED + timedelta(minutes=5))
    # A new day in CALLERID_TIMEZONE: texts go out again.
    assert not textstatus.cap_reached_today(session, settings, zone, ENDED + timedelta(days=1))


def test_a_text_taken_by_one_process_is_not_taken_by_another_nor_sent_again(app, session, twilio):
    text = text_of(session, missed(session))
    opts = textback.options(app.config)
    with db.new_session(app) as one, db.new_session(app) as other:
        assert textback.claim(one, text.id, opts, text.due_at) is not None
        assert textback.claim(other, text.id, opts, text.due_at) is None
    assert text_of(session, text.call).status == "sending"
    # Its sender died before asking Twilio: after 10 minutes its outcome is unknown, unsent.
    assert texting.run_due(app, text.due_at + timedelta(minutes=11)) == 0
    assert text_of(session, text.call).status == "unknown"
    assert twilio.played == {}


def test_sending_is_recorded_before_twilio_is_asked_and_never_retried_after_a_timeout(
    app, session, twilio, monkeypatch
):
    text = text_of(session, missed(session))
    seen = []

    def look(_form: dict[str, str]) -> None:
        with db.new_session(app) as other:
            seen.append(other.get(TextSent, text.id).status)

    twilio.on_create = look
    twilio.stall = 1.0  # Twilio takes it, but answers after our 0.1 s are up
    monkeypatch.setattr(texting.rest, "TIMEOUT", 0.1)
    assert texting.run_due(app, text.due_at) == 1
    assert seen == ["sending"]
    after = text_of(session, text.call)
    assert after.status == "unknown" and "did not answer in time" in textwords.words(after, UTC)
    assert texting.run_due(app, text.due_at + timedelta(minutes=1)) == 0
    assert seen == ["sending"]  # asked once only
    # Twilio's later news wins over "unknown".
    (sid,) = _wait_for_sids(twilio)
    twilio.wait_until_played(sid)
    assert text_of(session, text.call).status == "delivered"


def test_the_sender_thread_sends_what_is_due(app, session, twilio, frozen_clock):
    text = text_of(session, missed(session, ended=utcnow() - timedelta(minutes=3)))
    sender = texting.ensure_running(app, tick=0.02)
    try:
        (sid,) = _wait_for_sids(twilio)
        twilio.wait_until_played(sid)
    finally:
        texting.stop(app)
    assert not sender._thread.is_alive()
    assert text_of(session, text.call).status == "delivered"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_sender_with_nothing_to_send_only_reads(app, twilio, locked):
    """Every process looks for due texts every few seconds. With none due it only reads, so it
    never takes SQLite's write lock (held here by another connection) from a webhook."""
    assert texting.run_due(app, utcnow()) == 0


def _wait_for_sids(twilio: TwilioApi) -> list[str]:
    deadline = time.monotonic() + 10
    while not twilio.played:
        assert time.monotonic() < deadline, "the sender sent nothing"
        time.sleep(0.01)
    return list(twilio.played)


def test_erasing_the_customer_or_old_calls_deletes_our_texts_to_them(app, session, twilio):
    from callerid.directory.erase import erase
    from callerid.history import retention

    anna = add_customer(session, "Anna Moors", numbers=(ANNA,))
    missed(session, anna)
    missed(session, number="+14155550177", ended=ENDED - timedelta(days=2))
    erase(session, anna.id, actor="boss")
    retention.anonymise_older_than(session, ENDED - timedelta(days=1), actor="cli")
    session.commit()
    assert session.scalars(select(TextSent)).all() == []


SERVICE = "MG" + "7a" * 16


@pytest.mark.parametrize(
    ("not_from", "text_from", "sender"),
    [
        ("", "+12025550177", LINE),  # the line that was called texts
        (LINE, "+12025550177", "+12025550177"),  # it cannot: the configured sender
        (LINE, None, SERVICE),  # nor that: the Messaging Service picks one
    ],
)
def test_the_text_comes_from_the_line_called_else_the_configured_sender_else_the_service(
    app, session, twilio, not_from, text_from, sender
):
    app.config.update(
        CALLERID_TEXT_NOT_FROM=not_from,
        CALLERID_TEXT_FROM=text_from,
        TWILIO_MESSAGING_SERVICE_SID=SERVICE,
    )
    text = text_of(session, missed(session))
    assert text.sender == sender
    assert texting.run_due(app, text.due_at) == 1
    (played,) = twilio.played.values()
    asked = played.params.get("MessagingServiceSid") or played.params["From"]
    assert asked == sender


def test_each_step_of_the_text_is_announced_for_its_calls_card(app, session, twilio):
    call = missed(session)
    text = text_of(session, call)
    texting.run_due(app, text.due_at)
    (sid,) = _wait_for_sids(twilio)
    twilio.wait_until_played(sid)
    session.rollback()
    rows = session.scalars(select(Event).where(Event.kind == "text.sent").order_by(Event.id))
    steps = [json.loads(row.data) for row in rows]
    assert {step["call_sid"] for step in steps} == {call.call_sid}
    words = [step["words"] for step in steps]
    # Twilio's "sent" may overtake its REST answer ("queued"): the middle may vary.
    assert words[:2] == ["Text scheduled", "Texting"] and words[-1] == "Text delivered"
    assert steps[-1]["kind"] == "ok"


def test_with_text_back_off_a_missed_call_gets_no_text(app, session):
    assert not app.config["CALLERID_TEXT_BACK"]  # the default
    missed(session)
    assert session.scalars(select(TextSent)).all() == []


def test_a_short_ring_whose_dial_action_was_spooled_gets_no_text_when_replayed(
    app, session, twilio
):
    # Most missed calls end with the <Dial action>; in an outage it waits in the spool. Applied
    # later, the call must end when Twilio said so: at the replay, a 3-second ring read as a
    # long one and the customer was texted (and the 12-hour drop counted from the replay).
    rang_at = utcnow() - timedelta(minutes=3)
    call = add_call(session, from_number=ANNA, at=rang_at, line=LINE, status="ringing")
    call.answered_at = call.ended_at = None
    session.commit()
    dial = sample("dial-action-no-answer", CallSid=call.call_sid, From=ANNA)
    recorder.apply_entry(app, Entry("dial", dial, rang_at + timedelta(seconds=3)))
    text = text_of(session, call)
    assert (text.status, text.reason) == ("dropped", "it rang under 5 seconds")
    session.refresh(call)
    assert call.ended_at == rang_at + timedelta(seconds=3)  # the call log says when, too
    assert texting.run_due(app, utcnow() + timedelta(minutes=5)) == 0
    assert twilio.played == {}
