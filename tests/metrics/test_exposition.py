"""What /metrics shows: the webhooks' outcomes, the open streams and events delivered, and the
gauges read at scrape time. The counters belong to this test process and grow from test to test,
so each test compares two scrapes."""

from __future__ import annotations

import pytest

from callerid import db, metrics, telephony
from callerid.events import store, stream

from ..conftest import wait_for_positions
from ..factories import add_user, token_for
from ..twilio import sample
from .scrape import samples, value, webhooks

ROUTES = ("/twilio/voice", "/twilio/status")


@pytest.fixture
def scrape(client, session):
    headers = {"Authorization": f"Bearer {token_for(session, add_user(session, 'ops'), 'metrics')}"}

    def scraped() -> str:
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 200
        return response.get_data(as_text=True)

    return scraped


def test_every_outcome_of_every_twilio_route_is_shown_from_the_start(scrape):
    text = scrape()
    for route in ROUTES:
        for outcome in metrics.OUTCOMES:
            assert webhooks(text, route, outcome) is not None, (route, outcome)


def test_a_webhook_with_a_bad_signature_counts_as_forbidden_on_its_route(client, scrape):
    before = scrape()
    headers = {"X-Twilio-Signature": "forged"}
    assert (
        client.post("/twilio/voice", data=sample("voice-inbound-us"), headers=headers).status_code
        == 403
    )
    assert client.post("/twilio/voice", data=sample("voice-inbound-us")).status_code == 403
    after = scrape()
    assert (
        webhooks(after, "/twilio/voice", "forbidden")
        == webhooks(before, "/twilio/voice", "forbidden") + 2
    )
    assert webhooks(after, "/twilio/status", "forbidden") == webhooks(
        before, "/twilio/status", "forbidden"
    )


def test_outcomes_reported_by_code_are_counted_and_a_mistyped_one_is_refused(scrape):
    before = scrape()
    metrics.webhook_outcome("/twilio/status", "spooled")
    after = scrape()
    assert (
        webhooks(after, "/twilio/status", "spooled")
        == webhooks(before, "/twilio/status", "spooled") + 1
    )
    with pytest.raises(metrics.UnknownOutcome, match="unknown webhook outcome 'spoiled'"):
        metrics.webhook_outcome("/twilio/status", "spoiled")


def test_an_open_stream_is_counted_until_it_closes_with_the_events_it_delivered(
    app, session, scrape
):
    screen = app.test_client()
    headers = {"Authorization": f"Bearer {token_for(session, add_user(session, 'desk'))}"}
    before = scrape()
    response = screen.get("/events", headers=headers)
    try:
        next(response.response)  # stream.open: the stream is live
        opened = scrape()
        store.append(session, "call.ringing", {"call_sid": "CA1"})
        store.append(session, "call.answered", {"call_sid": "CA1"})
        session.commit()
        stream.wake(app)
        delivered = next(response.response)
    finally:
        response.close()
    closed = scrape()
    assert delivered.count(b"event: call.") == 2
    open_now = [value(t, "callerid_event_streams_open") for t in (before, opened, closed)]
    assert open_now == [open_now[0], open_now[0] + 1, open_now[0]]
    events = "callerid_events_delivered_total"
    assert value(closed, events) == value(before, events) + 2


def test_event_lag_is_what_the_follower_has_not_reached(app, session, scrape):
    assert value(scrape(), "callerid_event_lag") == 0  # no follower in this process yet
    follower = stream.follower_for(app)
    follower.stop()  # it stays where it is, like a follower that fell behind
    for sid in ("CA1", "CA2", "CA3"):
        store.append(session, "call.ringing", {"call_sid": sid})
    session.commit()
    wait_for_positions(session)  # given by the sequencer the follower started (PostgreSQL)
    assert value(scrape(), "callerid_event_lag") == 3


def test_events_still_without_a_position_are_counted(app, session, scrape):
    store.append(session, "call.ringing", {"call_sid": "CA1"})
    session.commit()
    # SQLite gives the position at commit; PostgreSQL's sequencer is not running in this test.
    waiting = 1 if db.engine_for(app).dialect.name == "postgresql" else 0
    assert value(scrape(), "callerid_events_waiting_for_position") == waiting


def test_database_connections_in_use_are_counted(app, scrape):
    before = value(scrape(), "callerid_db_connections_in_use")
    with db.engine_for(app).connect():
        assert value(scrape(), "callerid_db_connections_in_use") == before + 1
    assert value(scrape(), "callerid_db_connections_in_use") == before


def test_a_scrape_gauge_registered_again_replaces_the_default(app, scrape):
    assert value(scrape(), "callerid_spool_depth") == 0
    metrics.on_scrape(app, "callerid_spool_depth", "Entries waiting.", lambda: 7)
    assert value(scrape(), "callerid_spool_depth") == 7
    telephony.publish_spool_depth(app)  # as if the spool registered again after a real one
    assert value(scrape(), "callerid_spool_depth") == 7


def test_a_gauge_that_cannot_be_read_is_left_out_and_the_rest_is_served(app, scrape, caplog):
    def broken() -> float:
        raise OSError("spool folder unreadable")

    metrics.on_scrape(app, "callerid_spool_depth", "Entries waiting.", broken)
    text = scrape()
    assert value(text, "callerid_spool_depth") is None
    assert value(text, "callerid_event_lag") == 0
    assert (
        "callerid_webhook_requests_total",
        (("outcome", "forbidden"), ("route", "/twilio/voice")),
    ) in samples(text)
    assert (
        "could not read callerid_spool_depth for /metrics: spool folder unreadable" in caplog.text
    )
