"""The tables of outbound webhooks: the endpoints managers register, and one delivery per
(endpoint, event) that follows the events table by position."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, BigId, UTCDateTime, utcnow


class WebhookEndpoint(Base):
    """Where events are sent, which ones, in which format and with which customer data."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), default="")
    url: Mapped[str] = mapped_column(String(500))
    # "standard" (Standard Webhooks, signed) or "slack" ({"text": ...}).
    format: Mapped[str] = mapped_column(String(16), default="standard")
    # Comma-separated event types (webhooks.payloads.EVENT_TYPES).
    event_types: Mapped[str] = mapped_column(Text, default="")
    # Names and VIP always go (a do-not-greet customer is never named); these only when ticked.
    share_alerts: Mapped[bool] = mapped_column(Boolean, default=False)
    share_notes: Mapped[bool] = mapped_column(Boolean, default=False)
    # Pause on a failure instead of letting later deliveries go ahead.
    in_order: Mapped[bool] = mapped_column(Boolean, default=False)
    # "whsec_" + base64 of 24 random bytes; signs Standard Webhooks deliveries.
    secret: Mapped[str] = mapped_column(String(100))
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_reason: Mapped[str] = mapped_column(String(200), default="")
    # An in-order endpoint whose oldest delivery failed: later ones wait for it.
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last event position planned into deliveries; new endpoints start at the newest.
    cursor: Mapped[int] = mapped_column(BigId, default=0)
    # "24 hours without a success" counts from the later of these two.
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    enabled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def types(self) -> list[str]:
        return [t for t in self.event_types.split(",") if t]


class WebhookDelivery(Base):
    """One event for one endpoint: its ``message_id`` (the ``webhook-id``) never changes across
    retries and resends, so receivers can drop duplicates."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "position", "kind", name="uq_webhook_deliveries_event"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(BigId)
    kind: Mapped[str] = mapped_column(String(40))
    message_id: Mapped[str] = mapped_column(String(40), unique=True)
    # pending (waiting or leased), delivered, failed (gave up), dropped (its event is gone).
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Whoever claimed it sends it until then; nobody else may.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    leased_by: Mapped[str] = mapped_column(String(64), default="")
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_latency_ms: Mapped[int | None] = mapped_column(Integer)
    last_response: Mapped[str] = mapped_column(String(300), default="")
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
