"""The call always connects: a dead or stuck database costs the record, never the call."""

from __future__ import annotations

import logging
import sqlite3
import time
import xml.etree.ElementTree as ET

import pytest

from callerid import create_app, db
from callerid.telephony import recorder, replayer

from ..conftest import DESK, settings_for, wait_for_positions
from ..twilio import post_signed, sample

# Twilio gives up after 15 s; we promise "a second or two". The margin absorbs a slow CI machine.
PROMPT = 5.0


def assert_dials_the_desk(response) -> None:
    assert response.status_code == 200
    assert ET.fromstring(response.data).find("Dial/Number").text == DESK


def timed_call(client, params=None):
    started = time.monotonic()
    response = post_signed(client, "/twilio/voice", params or sample("voice-inbound-us"))
    return response, time.monotonic() - started


def test_call_connects_when_the_database_file_cannot_be_opened(tmp_path, caplog):
    url = f"sqlite:///{tmp_path / 'missing-folder' / 'callerid.sqlite3'}"
    app = create_app(settings_for(url, tmp_path / "instance"))
    with caplog.at_level(logging.WARNING):
        response, elapsed = timed_call(app.test_client())
    replayer.stop(app)
    db.engine_for(app).dispose()
    assert_dials_the_desk(response)
    assert elapsed < PROMPT
    assert "database failure" in caplog.text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_call_connects_while_another_process_locks_the_database(app, database_url, caplog):
    path = database_url.removeprefix("sqlite:///")
    blocker = sqlite3.connect(path)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with caplog.at_level(logging.WARNING):
            response, elapsed = timed_call(app.test_client())
    finally:
        blocker.rollback()
        blocker.close()
    assert_dials_the_desk(response)
    assert elapsed < PROMPT
    assert "database failure" in caplog.text


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_call_connects_while_postgresql_is_down_and_is_recorded_after(app, postgres, client):
    postgres.pause()
    try:
        response, elapsed = timed_call(client)
        ready = client.get("/readyz")
    finally:
        postgres.resume()
    assert_dials_the_desk(response)
    assert elapsed < PROMPT
    assert ready.status_code == 503
    # Twilio's retry (same CallSid) after the database is back is recorded normally.
    assert_dials_the_desk(timed_call(client)[0])
    assert client.get("/readyz").status_code == 200


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_stuck_transaction_that_wrote_an_event_holds_back_no_call(
    app, client, session, positions
):
    from sqlalchemy import select

    from callerid.events import store
    from callerid.models import Call, Event

    with db.engine_for(app).connect() as stuck:
        stuck.begin()
        store.append(stuck, "call.noted", {"call_sid": "CAstuck"})  # and never commits
        response, elapsed = timed_call(client)
        assert_dials_the_desk(response)
        # Recorded by its own webhook, not spooled: writers wait on no other writer's events.
        assert session.scalar(select(Call.call_sid)) == sample("voice-inbound-us")["CallSid"]
        assert recorder.spool_of(app).depth() == 0
        # And its card reaches the screens while the other transaction is still open.
        wait_for_positions(session)
        (card,) = store.since(session, 0)
        assert card.kind == "call.ringing"
        stuck.rollback()
    assert elapsed < PROMPT
    assert session.scalar(select(Event.kind).where(Event.position.is_(None))) is None
