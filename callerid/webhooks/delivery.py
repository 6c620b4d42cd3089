"""Deliveries: planned from the events table by position, claimed by one dispatcher at a time,
sent, and their outcome kept. At least once: a delivery is done only once an endpoint answered
2xx; until then it is tried again, with the same ``webhook-id``, for up to 24 hours.

Planning needs no lock: a delivery is unique per (endpoint, position, kind), so two processes
planning the same events insert each delivery once, and an endpoint's cursor only moves by
compare-and-set. Claiming takes a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the write
lock on SQLite), so no two processes attempt the same delivery at the same moment.

Over 300 lines because a delivery's life (plan, claim, send, record, resend) shares the lease
and retry rules above, which would otherwise be split across modules that must agree on them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, not_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from .. import db
from ..db import changed_rows, iso, utcnow
from ..models import Customer, Event, WebhookDelivery, WebhookEndpoint
from . import payloads
from .sender import Answer

PLAN_BATCH = 500
CLAIM_BATCH = 16
# A claimed delivery is the claimant's until then; a process that died mid-attempt loses it.
LEASE = timedelta(seconds=60)
GIVE_UP_AFTER = timedelta(hours=24)
FIRST_RETRY = timedelta(seconds=10)
LONGEST_WAIT = timedelta(hours=1)
TEST_KIND = "webhook.test"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A claimed delivery, ready to send."""

    delivery_id: int
    endpoint_id: int
    url: str
    format: str
    secret: str
    message_id: str
    body: bytes | None  # None: its event is gone (pruned), nothing to send


def new_secret() -> str:
    """A Standard Webhooks signing secret: ``whsec_`` and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def message_id(endpoint_id: int, position: int, kind: str) -> str:
    """The ``webhook-id`` of a delivery: the same for every attempt and resend."""
    digest = hashlib.sha256(f"{endpoint_id}:{position}:{kind}".encode()).hexdigest()
    return "msg_" + digest[:32]


def newest_position(session: Session) -> int:
    return session.scalar(select(func.coalesce(func.max(Event.position), 0))) or 0


def plan(session: Session) -> int:
    """Turn the events past each enabled endpoint's cursor into its deliveries (a batch at a
    time); return how many were made. The caller commits."""
    endpoints = session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.is_enabled)).all()
    if not endpoints:
        return 0
    low = min(endpoint.cursor for endpoint in endpoints)
    events = session.execute(
        select(Event.position, Event.kind, Event.data)
        .where(Event.position > low)
        .order_by(Event.position)
        .limit(PLAN_BATCH)
    ).all()
    if not events:
        return 0
    parsed = [(position, kind, json.loads(data)) for position, kind, data in events]
    made = 0
    for endpoint in endpoints:
        rows = [
            {
                "endpoint_id": endpoint.id,
                "position": position,
                "kind": kind,
                "message_id": message_id(endpoint.id, position, kind),
            }
            for position, event_kind, data in parsed
            if position > endpoint.cursor
            for kind in payloads.kinds_for(event_kind, data, endpoint.types)
        ]
        made += _insert_new(session, rows)
        session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint.id, WebhookEndpoint.cursor == endpoint.cursor)
            .values(cursor=parsed[-1][0])
        )
    return made


def _insert_new(session: Session, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    now = utcnow()
    for row in rows:
        row.update(status="pending", attempts=0, next_attempt_at=now, created_at=now)
        row.update(leased_by="", last_response="")
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(WebhookDelivery).values(rows).on_conflict_do_nothing()
    return changed_rows(session.execute(statement))


def claim(
    session: Session,
    claimant: str,
    now: datetime | None = None,
    *,
    limit: int = CLAIM_BATCH,
    busy: frozenset[int] = frozenset(),
) -> list[int]:
    """Lease up to ``limit`` due deliveries of enabled endpoints to ``claimant``, oldest event
    first, none of the endpoints in ``busy`` (those this process is already sending to at its
    limit); an in-order endpoint gives only its oldest pending one. The caller commits."""
    now = now or utcnow()
    db.lock_for_writing(session)
    earlier = aliased(WebhookDelivery)
    blocked = exists().where(
        earlier.endpoint_id == WebhookDelivery.endpoint_id,
        earlier.status == "pending",
        earlier.id < WebhookDelivery.id,
    )
    free = or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now)
    due = (
        select(WebhookDelivery.id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(
            WebhookDelivery.status == "pending",
            WebhookDelivery.next_attempt_at <= now,
            free,
            WebhookEndpoint.is_enabled,
            WebhookDelivery.endpoint_id.not_in(busy),
            or_(not_(WebhookEndpoint.in_order), not_(blocked)),
        )
        .order_by(WebhookDelivery.position, WebhookDelivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=WebhookDelivery)
    )
    ids = list(session.scalars(due))
    if not ids:
        return []
    claimed = session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(ids), free)
        .values(
            lease_until=now + LEASE,
            leased_by=claimant[:64],
            attempts=WebhookDelivery.attempts + 1,
            first_attempt_at=func.coalesce(WebhookDelivery.first_attempt_at, now),
        )
        .returning(WebhookDelivery.id)
    )
    return sorted(claimed.scalars())


def outgoing(session: Session, delivery_id: int) -> Outgoing:
    """What to send for a claimed delivery, built now: the event as it stands (an erasure since
    has rewritten or removed it) less what the endpoint may not see."""
    delivery = session.get(WebhookDelivery, delivery_id)
    assert delivery is not None
    endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
    assert endpoint is not None
    found = _event(session, delivery)
    body = None
    if found is not None:
        happened_at, data = found
        shown = payloads.visible(
            data,
            share_alerts=endpoint.share_alerts,
            share_notes=endpoint.share_notes,
            now=lambda customer_id: _customer_now(session, customer_id),
        )
        if endpoint.format == "slack":
            body = payloads.slack_body(delivery.kind, shown)
        else:
            body = payloads.standard_body(delivery.kind, happened_at, shown)
    return Outgoing(
        delivery.id,
        endpoint.id,
        endpoint.url,
        endpoint.format,
        endpoint.secret,
        delivery.message_id,
        body,
    )


def _event(session: Session, delivery: WebhookDelivery) -> tuple[str, dict[str, Any]] | None:
    if delivery.kind == TEST_KIND:
        return iso(delivery.created_at) or "", payloads.SAMPLE
    row = session.execute(
        select(Event.created_at, Event.data).where(Event.position == delivery.position)
    ).first()
    if row is None:
        return None
    return iso(row.created_at) or "", json.loads(row.data)


def _customer_now(session: Session, customer_id: int) -> payloads.Customer:
    customer = session.get(Customer, customer_id) if customer_id else None
    if customer is None or customer.erased_at is not None:
        return payloads.Customer(exists=False, do_not_greet=False)
    return payloads.Customer(exists=True, do_not_greet=customer.do_not_greet)


def record(session: Session, delivery_id: int, answer: Answer | None) -> None:
    """Keep how an attempt went (``answer`` None: its event is gone, the delivery is dropped)
    and what it means for the endpoint: a success clears a pause; 410 Gone disables it at once;
    a failure retries later, gives up after 24 hours, pauses an in-order endpoint, and disables
    an endpoint that has had no success for 24 hours. The caller commits."""
    now = utcnow()
    delivery = session.get(WebhookDelivery, delivery_id, with_for_update=True)
    assert delivery is not None
    endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
    assert endpoint is not None
    delivery.lease_until, delivery.leased_by = None, ""
    if answer is None:
        delivery.status, delivery.last_response = "dropped", "its event is no longer stored"
        return
    delivery.last_status, delivery.last_latency_ms = answer.status, answer.latency_ms
    delivery.last_response = answer.excerpt[:300]
    if answer.is_success:
        delivery.status, delivery.delivered_at = "delivered", now
        endpoint.last_success_at, endpoint.paused_at = now, None
        return
    if answer.status == 410:
        delivery.status = "failed"
        disable(endpoint, "the endpoint answered 410 Gone", now)
        return
    started = delivery.first_attempt_at or now
    if now - started >= GIVE_UP_AFTER:
        delivery.status = "failed"
    else:
        delivery.next_attempt_at = now + backoff(delivery.attempts)
    if endpoint.in_order:
        endpoint.paused_at = endpoint.paused_at or now
    if now - max(endpoint.last_success_at or endpoint.enabled_at, endpoint.enabled_at) >= (
        GIVE_UP_AFTER
    ):
        disable(endpoint, "no delivery succeeded for 24 hours", now)


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt: 10 s, doubling, at most 1 h."""
    return min(FIRST_RETRY * (2 ** max(0, attempts - 1)), LONGEST_WAIT)


def disable(endpoint: WebhookEndpoint, reason: str, now: datetime | None = None) -> None:
    endpoint.is_enabled = False
    endpoint.disabled_at, endpoint.disabled_reason = now or utcnow(), reason[:200]


def enable(session: Session, endpoint: WebhookEndpoint) -> int:
    """Enable ``endpoint`` again and resend from where it stopped: deliveries it gave up on are
    due again with a fresh 24 hours; events since are planned from its cursor. Returns how
    many deliveries were revived. The caller commits."""
    now = utcnow()
    endpoint.is_enabled, endpoint.disabled_at, endpoint.disabled_reason = True, None, ""
    endpoint.enabled_at, endpoint.paused_at = now, None
    revived = session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == "failed")
        .values(status="pending", next_attempt_at=now, first_attempt_at=None, lease_until=None)
    )
    return changed_rows(revived)


def resend(session: Session, delivery: WebhookDelivery) -> None:
    """Send a delivery again (same ``webhook-id``), now, whatever became of it."""
    delivery.status, delivery.next_attempt_at = "pending", utcnow()
    delivery.first_attempt_at, delivery.lease_until = None, None


def send_test(session: Session, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queue a sample ``call.ringing`` (a fictional caller), sent as ``webhook.test``."""
    # Below every event (never planned twice), and below the endpoint's earlier tests: two in
    # the same millisecond shared a message_id, a unique column, and the second was a 500.
    earlier = session.scalar(
        select(func.min(WebhookDelivery.position)).where(
            WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.kind == TEST_KIND
        )
    )
    position = -int(utcnow().timestamp() * 1000)
    if earlier is not None:
        position = min(position, earlier - 1)
    delivery = WebhookDelivery(
        endpoint_id=endpoint.id,
        position=position,
        kind=TEST_KIND,
        message_id=message_id(endpoint.id, position, TEST_KIND),
        next_attempt_at=utcnow(),
    )
    session.add(delivery)
    session.flush()
    return delivery
