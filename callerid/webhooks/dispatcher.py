"""Each process's dispatcher: plans deliveries from new events, claims due ones and hands each
to a sender, beside requests (greenlets under gevent). Outcomes are kept at the next round, so
a slow or dead endpoint holds up only its own deliveries (at most ``PER_ENDPOINT`` senders at a
time), never another endpoint's, a request or a screen."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from flask import Flask
from sqlalchemy import exists, select
from sqlalchemy.exc import SQLAlchemyError
from standardwebhooks import Webhook

from .. import db, errors
from ..background import Background, on_first_request
from ..models import WebhookEndpoint
from . import delivery, sender
from .addresses import Network

log = logging.getLogger(__name__)
# Seconds between looks while endpoints exist, and while none does.
BUSY_POLL = 0.25
IDLE_POLL = 1.0
# Seconds between rounds while deliveries are under way: each round is one write transaction.
ROUND = 0.1
SENDERS = 8
PER_ENDPOINT = 2
USER_AGENT = "callerid-webhooks/1"


def headers_for(out: delivery.Outgoing, now: datetime | None = None) -> dict[str, str]:
    """The request's headers; a Standard Webhooks delivery is signed afresh at each attempt
    with the current time (receivers refuse timestamps more than five minutes off)."""
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    if out.format != "standard" or out.body is None:
        return headers
    now = now or datetime.now(UTC)
    signature = Webhook(out.secret).sign(out.message_id, now, out.body)
    headers.update(
        {
            "webhook-id": out.message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signature,
        }
    )
    return headers


Outcome = tuple[int, sender.Answer | None]


def claim_ready(
    app: Flask,
    claimant: str,
    limit: int,
    busy: frozenset[int] = frozenset(),
    finished: Sequence[Outcome] = (),
) -> list[delivery.Outgoing]:
    """In one transaction (one write per round, whatever the number of deliveries: on SQLite
    every write waits for the same lock as the calls): keep the ``finished`` attempts'
    outcomes, plan new deliveries and claim up to ``limit`` due ones, returned ready to send."""
    with db.new_session(app) as session:
        db.bound(session, 1.0)
        for delivery_id, answer in finished:
            delivery.record(session, delivery_id, answer)
        delivery.plan(session)
        claimed = delivery.claim(session, claimant, limit=limit, busy=busy) if limit else []
        session.commit()
        ready = [delivery.outgoing(session, delivery_id) for delivery_id in claimed]
        session.rollback()
    return ready


def send(app: Flask, out: delivery.Outgoing) -> Outcome:
    """Send one claimed delivery; its outcome, to keep."""
    allowed: Sequence[Network] = app.extensions.get("callerid.webhook_allow", ())
    if out.body is None:
        return out.delivery_id, None
    return out.delivery_id, sender.post(out.url, out.body, headers_for(out), allowed)


def run_once(app: Flask, claimant: str) -> int:
    """Plan, claim and send what is due now, one after the other, and keep the outcomes (tests,
    the CLI); return how many deliveries were attempted."""
    ready = claim_ready(app, claimant, delivery.CLAIM_BATCH)
    finished = [send(app, out) for out in ready]
    if finished:
        claim_ready(app, claimant, 0, finished=finished)
    return len(ready)


def has_endpoints(app: Flask) -> bool:
    with db.new_session(app) as session:
        return bool(session.scalar(select(exists().where(WebhookEndpoint.is_enabled))))


class Dispatcher(Background):
    NAME = "callerid-webhooks"

    def __init__(self, app: Flask) -> None:
        super().__init__()
        self.app = app
        self.claimant = f"{socket.gethostname()}:{os.getpid()}"[:64]
        self._pool = ThreadPoolExecutor(SENDERS, thread_name_prefix="callerid-webhook")
        self._lock = threading.Lock()
        self._sending: Counter[int] = Counter()  # endpoint id -> deliveries in flight
        self._finished: list[Outcome] = []  # attempts whose outcome is not kept yet

    def _run(self) -> None:
        while not self._stopped.is_set():
            wait = BUSY_POLL
            try:
                if not has_endpoints(self.app):
                    wait = IDLE_POLL
                elif not self._following():
                    wait = 0.0
                elif self._dispatch() or self._sending:
                    wait = ROUND
            except SQLAlchemyError as error:
                errors.log_failure(log, "webhook deliveries wait for the database", error)
                wait = IDLE_POLL
            except Exception:  # noqa: BLE001 - a bug here must not end deliveries for good
                log.exception("webhook dispatcher failed; trying again")
                wait = IDLE_POLL
            self._stopped.wait(wait)
        self._pool.shutdown(wait=False)

    def _following(self) -> bool:
        """Start this process's event follower once there are endpoints: on PostgreSQL a
        follower is what makes the process a candidate to give events their positions
        (events/sequencer.py), without which nothing is planned while no screen is open."""
        if self.app.extensions.get("callerid.follower") is None:
            from ..events.stream import follower_for

            follower_for(self.app)
            return False
        return True

    def _dispatch(self) -> int:
        with self._lock:
            finished, self._finished = self._finished, []
            free = SENDERS - sum(self._sending.values())
            busy = frozenset(e for e, n in self._sending.items() if n >= PER_ENDPOINT)
        try:
            ready = claim_ready(self.app, self.claimant, max(0, free), busy, finished)
        except BaseException:
            with self._lock:  # kept next round; their leases outlive a retry
                self._finished = finished + self._finished
            raise
        for out in ready:
            with self._lock:
                self._sending[out.endpoint_id] += 1
            self._pool.submit(self._send, out)
        return len(ready) + len(finished)

    def _send(self, out: delivery.Outgoing) -> None:
        outcome: Outcome | None = None
        try:
            outcome = send(self.app, out)
        except Exception:  # noqa: BLE001 - its lease ends and another attempt follows
            log.exception("webhook delivery %s failed", out.delivery_id)
        finally:
            with self._lock:
                if outcome is not None:
                    self._finished.append(outcome)
                self._sending[out.endpoint_id] -= 1
                if self._sending[out.endpoint_id] <= 0:
                    del self._sending[out.endpoint_id]


_lock = threading.Lock()


def ensure_running(app: Flask) -> None:
    """Start this process's dispatcher."""
    with _lock:
        if app.extensions.get("callerid.webhooks") is None:
            dispatcher = app.extensions["callerid.webhooks"] = Dispatcher(app)
            dispatcher.start()


def stop(app: Flask) -> None:
    with _lock:
        dispatcher = app.extensions.pop("callerid.webhooks", None)
    if dispatcher is not None:
        dispatcher.stop()


def init_app(app: Flask) -> None:
    """Start the dispatcher on this process's first request (after gunicorn's fork); tests
    and the CLI, which serve no requests, run ``run_once`` themselves."""

    def start() -> None:
        if not app.testing:
            ensure_running(app)

    on_first_request(app, start)
