"""What becomes of a "sorry we missed you" text after it leaves: Twilio's refusals in words, and
the signed message status callbacks (POST /twilio/text-status), in any order, any number of
times, spooled while the database cannot take them."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest

from callerid import texts
from callerid.telephony import recorder, replayer, texting

from ..factories import add_user, token_for
from ..twilio import post_signed
from ..twilio_api import ACCOUNT_SID
from .test_textback import ANNA, LINE, missed, text_of

SID = "SM" + "5e" * 16


def status(client, text_id: int, message_status: str, **extra: str | None):
    params: dict[str, str | None] = {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "MessageSid": SID,
        "SmsSid": SID,
        "MessageStatus": message_status,
        "SmsStatus": message_status,
        "From": LINE,
        "To": ANNA,
        **extra,
    }
    sent = {key: value for key, value in params.items() if value is not None}
    return post_signed(client, f"/twilio/text-status?id={text_id}", sent)


def sent_text(app, session):
    """A text on its way: claimed and sent, Twilio's own callbacks kept out of it."""
    text = text_of(session, missed(session))
    app.config["CALLERID_PUBLIC_URL"] = None  # no status callbacks from the stand-in
    assert texting.run_due(app, text.due_at) == 1
    return text_of(session, text.call)


def test_a_status_never_goes_back_and_repeats_change_nothing(app, client, session, twilio):
    text = sent_text(app, session)
    assert text.status == "queued"
    assert status(client, text.id, "delivered").status_code == 204
    assert status(client, text.id, "sent").status_code == 204  # late: changes nothing
    assert status(client, text.id, "delivered").status_code == 204  # again: the same
    after = text_of(session, text.call)
    assert (after.status, after.error_code) == ("delivered", None)


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (21606, "The sender cannot text this number"),
        (30034, "it needs a registered A2P 10DLC campaign"),
        (21610, "The customer unsubscribed from our texts"),
    ],
)
def test_twilio_refusing_a_text_is_said_in_words(app, session, twilio, code, words):
    twilio.refuse(code, to=ANNA)
    text = text_of(session, missed(session))
    assert texting.run_due(app, text.due_at) == 1
    after = text_of(session, text.call)
    assert (after.status, after.error_code) == ("failed", code)
    assert words in after.error
    opted = texts.opted_out(session, ANNA)
    if code == 21610:  # Twilio's word that they unsubscribed: no text from any line again
        assert (opted.keyword, opted.source) == ("STOP", "twilio")
        assert text_of(session, missed(session)).reason.startswith("the number opted out")
    else:
        assert opted is None


def test_error_21610_in_a_status_callback_opts_the_number_out(app, client, session, twilio):
    text = sent_text(app, session)
    answer = status(client, text.id, "undelivered", ErrorCode="21610")
    assert answer.status_code == 204
    after = text_of(session, text.call)
    assert (after.status, after.error_code) == ("undelivered", 21610)
    assert texts.opted_out(session, ANNA).source == "twilio"


def test_a_status_callback_without_its_status_or_id_is_refused(app, client, session, twilio):
    text = sent_text(app, session)
    assert status(client, text.id, "delivered", MessageStatus=None).status_code == 400
    params = {"AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", "MessageSid": SID}
    answer = post_signed(client, "/twilio/text-status", {**params, "MessageStatus": "sent"})
    assert answer.status_code == 400
    assert text_of(session, text.call).status == "queued"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_status_the_database_cannot_take_now_is_spooled_and_applied_later(
    app, client, session, twilio, database_url
):
    text = sent_text(app, session)
    app.config["CALLERID_DB_TIMEOUT"] = 0.2
    locked = sqlite3.connect(database_url.removeprefix("sqlite:///"))
    locked.execute("BEGIN EXCLUSIVE")  # as a CLI import holds it
    answer = status(client, text.id, "delivered")
    replayer.stop(app)  # the test applies the spool itself
    locked.rollback()
    assert answer.status_code == 204
    assert recorder.spool_of(app).depth() == 1
    assert recorder.replay(app) == (1, None)
    assert text_of(session, text.call).status == "delivered"
    locked.close()


def test_a_text_twilio_refused_counts_as_failed_not_as_sent_in_the_insights(
    app, client, session, twilio
):
    twilio.refuse(21606, to=ANNA)
    text = text_of(session, missed(session))
    assert texting.run_due(app, text.due_at) == 1
    manager = {
        "Authorization": f"Bearer {token_for(session, add_user(session, 'boss', 'manager'))}"
    }
    day, next_day = text.due_at.date(), text.due_at.date() + timedelta(days=1)
    window = f"since={day}&until={next_day}&tz=UTC"
    body = client.get(f"/api/insights?{window}", headers=manager).get_json()
    assert (body["texts_sent"], body["texts_failed"]) == (0, 1)
