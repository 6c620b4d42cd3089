"""Deliveries in-process on both engines, to a real HTTP receiver on loopback: planned from
the events by position, signed, retried with the same webhook-id, leased so that no two
dispatchers send one twice, and stopped or paused as the endpoint's answers say."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from standardwebhooks import Webhook

from callerid import customer_changes
from callerid.db import utcnow
from callerid.events import store
from callerid.models import Event
from callerid.models.webhooks import WebhookDelivery, WebhookEndpoint
from callerid.webhooks import addresses, delivery, dispatcher, endpoints

from ..factories import add_customer, add_user
from .receiver import Receiver


@pytest.fixture
def receiver():
    running = Receiver().start()
    yield running
    running.stop()


@pytest.fixture
def hooks(app, session):
    app.extensions["callerid.webhook_allow"] = addresses.parse_allow_nets("127.0.0.1/32")
    return add_user(session, "Maria", "manager")


def endpoint_for(session, manager, url, **fields) -> WebhookEndpoint:
    fields.setdefault("event_types", ["call.ringing"])
    made = endpoints.create(session, {"url": url, **fields}, _allowed(), by=manager)
    session.commit()
    return made


def _allowed():
    return addresses.parse_allow_nets("127.0.0.1/32")


def ring(session, name="Anna Moors", kind="call.ringing", customer_id=None, **extra) -> None:
    card = {
        "call_sid": "CA1",
        "status": "ringing",
        "from": "+14155550134",
        "line": {"number": "+12025550143", "label": "Downtown"},
        "greeting": "Welcome back, Anna",
        "customer": {"id": customer_id, "name": name, "vip": False},
        "also": [],
        **extra,
    }
    store.append(session, kind, card)
    # The position a sequencer would give (tests/events covers it): starting and stopping one
    # per test cost a second of each test on PostgreSQL.
    session.execute(text("UPDATE events SET position = id WHERE position IS NULL"))
    session.commit()


def deliver(app) -> int:
    return dispatcher.run_once(app, "test-dispatcher")


def statuses(session) -> list[tuple[str, str, int]]:
    session.expire_all()
    rows = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id))
    return [(row.kind, row.status, row.attempts) for row in rows]


def test_an_endpoint_gets_what_it_subscribed_to_signed_from_its_creation_on(
    app, session, hooks, receiver
):
    anna = add_customer(session, "Anna Moors", numbers=("+14155550134",))
    ring(session, "Before")  # before the endpoint existed: not sent
    endpoint = endpoint_for(session, hooks, receiver.url)
    ring(session, customer_id=anna.id)
    ring(session, kind="call.answered")
    assert deliver(app) == 1
    (got,) = receiver.received
    body = Webhook(endpoint.secret).verify(got.body, got.headers)
    assert body["type"] == "call.ringing" and body["data"]["customer"]["name"] == "Anna Moors"
    assert body["timestamp"].endswith("Z")
    assert got.headers["webhook-id"].startswith("msg_")
    assert statuses(session) == [("call.ringing", "delivered", 1)]


def test_a_failed_delivery_is_retried_later_with_the_same_webhook_id(
    app, session, hooks, receiver, frozen_clock
):
    endpoint = endpoint_for(session, hooks, receiver.url)
    receiver.answers = [503]
    ring(session)
    deliver(app)
    assert deliver(app) == 0  # not due yet: it waits 10 s
    frozen_clock.shift(timedelta(seconds=11))
    assert deliver(app) == 1
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    for got in (first, second):
        Webhook(endpoint.secret).verify(got.body, got.headers)
    assert statuses(session) == [("call.ringing", "delivered", 2)]


def test_410_gone_disables_the_endpoint_at_once_and_enable_resends(app, session, hooks, receiver):
    endpoint = endpoint_for(session, hooks, receiver.url)
    receiver.answers = [410]
    ring(session)
    deliver(app)
    session.refresh(endpoint)
    assert endpoint.is_enabled is False and "410" in endpoint.disabled_reason
    ring(session, "Later")
    assert deliver(app) == 0
    assert endpoints.set_enabled(session, endpoint, True, by=hooks) == 1
    session.commit()
    deliver(app)
    deliver(app)
    names = [r.body for r in receiver.received]
    assert len(names) == 3 and b"Later" in names[2]


def test_an_endpoint_without_a_success_for_a_day_is_disabled(
    app, session, hooks, receiver, frozen_clock
):
    endpoint = endpoint_for(session, hooks, receiver.url)
    receiver.answers = [500, 500]
    ring(session)
    deliver(app)
    frozen_clock.shift(timedelta(hours=24, seconds=1))
    deliver(app)
    session.refresh(endpoint)
    assert endpoint.is_enabled is False
    assert endpoint.disabled_reason == "no delivery succeeded for 24 hours"
    assert statuses(session) == [("call.ringing", "failed", 2)]


def test_an_in_order_endpoint_pauses_on_a_failure(app, session, hooks, receiver, frozen_clock):
    endpoint = endpoint_for(session, hooks, receiver.url, in_order=True)
    receiver.answers = [500]
    ring(session, "First")
    ring(session, "Second")
    deliver(app)
    session.refresh(endpoint)
    assert endpoint.paused_at is not None and len(receiver.received) == 1
    frozen_clock.shift(timedelta(seconds=11))
    deliver(app)
    deliver(app)
    assert [b"First" in r.body for r in receiver.received] == [True, True, False]
    session.refresh(endpoint)
    assert endpoint.paused_at is None


def test_two_dispatchers_never_send_one_delivery_twice(app, session, hooks, receiver):
    endpoint_for(session, hooks, receiver.url)
    for number in range(12):
        ring(session, f"Caller {number}")
    errors: list[BaseException] = []

    def work(claimant: str) -> None:
        try:
            while dispatcher.run_once(app, claimant):
                pass
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    both = [threading.Thread(target=work, args=(name,)) for name in ("a", "b")]
    for thread in both:
        thread.start()
    for thread in both:
        thread.join(30)
    assert errors == []
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert len(ids) == 12 and len(set(ids)) == 12


def test_a_customer_erased_before_the_delivery_is_not_sent(app, session, hooks, receiver):
    anna = add_customer(session, "Anna Moors", numbers=("+14155550134",))
    endpoint_for(session, hooks, receiver.url)
    ring(session, customer_id=anna.id)
    customer_changes.erase(
        session, anna.id, actor="Maria", user_id=None, region="US", today=utcnow().date()
    )
    session.commit()
    deliver(app)
    assert all(b"Moors" not in r.body for r in receiver.received)


def test_a_delivery_whose_event_was_pruned_is_dropped(app, session, hooks, receiver):
    endpoint_for(session, hooks, receiver.url)
    ring(session)
    delivery.plan(session)
    session.commit()
    session.execute(Event.__table__.delete())
    session.commit()
    deliver(app)
    assert receiver.received == []
    assert statuses(session) == [("call.ringing", "dropped", 1)]


def test_slack_endpoints_get_a_sentence_and_a_test_event_goes_out(app, session, hooks, receiver):
    endpoint = endpoint_for(session, hooks, receiver.url, format="slack")
    ring(session)
    delivery.send_test(session, endpoint)
    session.commit()
    deliver(app)
    texts = sorted(r.body.decode() for r in receiver.received)
    assert texts == [
        '{"text": "Anna is calling Downtown"}',
        '{"text": "Test from callerid: Ms. Example (VIP) is calling Test line"}',
    ]
    assert "webhook-signature" not in receiver.received[0].headers


def test_a_resent_delivery_keeps_its_webhook_id(app, session, hooks, receiver):
    endpoint_for(session, hooks, receiver.url)
    ring(session)
    deliver(app)
    (row,) = session.scalars(select(WebhookDelivery))
    delivery.resend(session, row)
    session.commit()
    deliver(app)
    first, again = receiver.received
    assert first.headers["webhook-id"] == again.headers["webhook-id"] == row.message_id


def test_the_background_dispatcher_delivers_while_a_dead_endpoint_hangs(
    app, session, hooks, receiver
):
    """In its own thread, as in a gunicorn worker; on PostgreSQL it starts the follower that
    makes its process a candidate sequencer."""
    import socket
    import time

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    endpoint_for(session, hooks, f"http://127.0.0.1:{silent.getsockname()[1]}/never")
    endpoint_for(session, hooks, receiver.url)
    dispatcher.ensure_running(app)
    try:
        for number in range(3):
            ring(session, f"Caller {number}")
        deadline = time.monotonic() + 10
        while len(receiver.received) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(receiver.received) == 3
    finally:
        dispatcher.stop(app)
        silent.close()
