"""POST /twilio/sms: texts to our numbers, signed as Twilio signs them; replies to missed calls,
and the keywords that opt a number out of texts and back in."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from sqlalchemy import select

from callerid import create_app, db, texts
from callerid.db import utcnow
from callerid.models import Event, OptOut, TextReceived
from callerid.telephony import recorder, replayer

from ..conftest import settings_for
from ..factories import add_call, add_customer
from ..twilio import post_signed, sample

ANNA = "+14155550134"  # the sender of the sms-inbound sample


def text(client, **changes):
    return post_signed(client, "/twilio/sms", sample("sms-inbound", **changes))


def kept(session) -> list[TextReceived]:
    session.rollback()
    return list(session.scalars(select(TextReceived).order_by(TextReceived.id)))


def test_a_reply_is_kept_on_the_missed_call_it_answers_and_nothing_is_sent_back(client, session):
    anna = add_customer(session, "Anna Moors", numbers=(ANNA,))
    add_call(session, anna, status="no-answer", is_missed=True, at=utcnow() - timedelta(days=2))
    missed = add_call(
        session, anna, status="no-answer", is_missed=True, at=utcnow() - timedelta(hours=1)
    )
    answer = text(client)
    assert answer.status_code == 200 and answer.mimetype == "text/xml"
    assert len(ET.fromstring(answer.data)) == 0  # an empty <Response/>: no reply
    (reply,) = kept(session)
    assert (reply.customer_id, reply.call_id, reply.keyword) == (anna.id, missed.id, "")
    event = session.scalars(select(Event).where(Event.kind == "text.received")).one()
    data = json.loads(event.data)
    assert (data["call_sid"], data["customer"]["name"]) == (missed.call_sid, "Anna Moors")
    assert data["body"].startswith("Hi, sorry I missed you!")


def test_a_text_from_a_stranger_long_after_any_call_is_kept_alone(client, session):
    add_call(
        session,
        from_number=ANNA,
        status="no-answer",
        is_missed=True,
        at=utcnow() - timedelta(days=9),
    )
    text(client)
    (reply,) = kept(session)
    assert (reply.customer_id, reply.call_id, reply.number) == (None, None, ANNA)


def test_twilio_sending_a_text_again_keeps_it_once(client, session):
    assert text(client).status_code == 200
    assert text(client).status_code == 200
    assert len(kept(session)) == 1


@pytest.mark.parametrize("body", ["STOP", " stop ", "Unsubscribe", "cancel.", "StopAll", "quit!"])
def test_a_stop_word_opts_the_number_out_of_texts_from_every_line(client, session, body):
    text(client, Body=body)
    session.rollback()
    opted = texts.opted_out(session, ANNA)
    assert opted is not None and (opted.keyword, opted.source) == ("STOP", "reply")
    assert kept(session)[0].keyword == "STOP"


def test_start_opts_back_in_and_help_changes_nothing(client, session):
    text(client, Body="STOP", MessageSid="SM" + "1" * 32)
    text(client, Body="help", MessageSid="SM" + "2" * 32)
    session.rollback()
    assert texts.opted_out(session, ANNA) is not None
    text(client, Body="Start", MessageSid="SM" + "3" * 32)
    session.rollback()
    assert texts.opted_out(session, ANNA) is None
    assert [t.keyword for t in kept(session)] == ["STOP", "HELP", "START"]


def test_a_sentence_with_stop_in_it_is_not_an_opt_out(client, session):
    text(client, Body="Please don't stop calling me about the booking")
    session.rollback()
    assert session.get(OptOut, ANNA) is None


def test_twilios_advanced_opt_out_names_the_keyword_itself(client, session):
    text(client, Body="arrêtez", OptOutType="STOP")
    session.rollback()
    assert texts.opted_out(session, ANNA) is not None


def test_a_second_stop_keeps_the_first_date(session):
    first = utcnow() - timedelta(days=3)
    texts.opt_out(session, ANNA, "STOP", "reply", first)
    session.commit()
    texts.opt_out(session, ANNA, "STOP", "twilio", utcnow())
    session.commit()
    assert texts.opted_out(session, ANNA).opted_out_at == first


def test_an_unsigned_text_is_refused_and_one_without_a_sender_is_a_bad_request(client, session):
    assert client.post("/twilio/sms", data=sample("sms-inbound")).status_code == 403
    assert text(client, From=None).status_code == 400
    assert text(client, MessageSid=None, SmsSid=None).status_code == 400
    assert kept(session) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_text_the_database_cannot_take_now_is_spooled_and_kept_later(
    app, client, session, locked
):
    answer = text(client, Body="Can I book for 7?")
    replayer.stop(app)  # the test applies the spool itself
    locked.rollback()
    assert answer.status_code == 200  # stored, in the spool: Twilio may stop
    assert recorder.spool_of(app).depth() == 1
    assert recorder.replay(app) == (1, None)
    assert [t.body for t in kept(session)] == ["Can I book for 7?"]


def test_a_text_that_can_be_neither_stored_nor_spooled_is_not_acknowledged(tmp_path):
    url = f"sqlite:///{tmp_path / 'missing-folder' / 'callerid.sqlite3'}"
    (tmp_path / "not-a-folder").write_text("")
    app = create_app(
        settings_for(
            url, tmp_path / "instance", CALLERID_SPOOL_PATH=str(tmp_path / "not-a-folder" / "s")
        )
    )
    answer = text(app.test_client())
    replayer.stop(app)
    db.engine_for(app).dispose()
    assert answer.status_code == 503


def test_erasing_the_customer_deletes_their_texts_but_keeps_the_opt_out(client, session):
    from callerid.directory.erase import erase

    anna = add_customer(session, "Anna Moors", numbers=(ANNA,))
    text(client, Body="STOP")
    erase(session, anna.id, actor="boss")
    session.commit()
    assert kept(session) == []
    assert texts.opted_out(session, ANNA) is not None


def test_retention_deletes_old_texts(client, session):
    from callerid.history import retention

    text(client)
    retention.anonymise_older_than(session, utcnow() + timedelta(seconds=1), actor="cli")
    session.commit()
    assert kept(session) == []
