"""Managing endpoints: the one place their fields are checked, and every change audited."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit
from ..models import User, WebhookDelivery, WebhookEndpoint
from . import addresses, delivery, payloads

FLAGS = ("share_alerts", "share_notes", "in_order")
FIELDS = ("name", "url", "format", "event_types", *FLAGS)


class InvalidEndpoint(ValueError):
    """A field a manager must fix; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class UnknownEndpoint(LookupError):
    pass


def get(session: Session, endpoint_id: int) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise UnknownEndpoint(endpoint_id)
    return endpoint


def every(session: Session) -> list[WebhookEndpoint]:
    return list(session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def create(
    session: Session, fields: Mapping[str, Any], allowed: Sequence[addresses.Network], *, by: User
) -> WebhookEndpoint:
    """A new endpoint from ``fields`` (checked as ``update`` checks them; ``url`` required),
    starting with the next event, with a new secret. Raises ``InvalidEndpoint``."""
    endpoint = WebhookEndpoint(
        url="",
        name="",
        format="standard",
        event_types=",".join(payloads.EVENT_TYPES[:7]),
        secret=delivery.new_secret(),
        cursor=delivery.newest_position(session),
    )
    _apply(endpoint, {"url": None, **fields}, allowed)
    session.add(endpoint)
    session.flush()
    _record(session, "webhook.create", endpoint, by, ", ".join(sorted(fields)))
    return endpoint


def update(
    session: Session,
    endpoint: WebhookEndpoint,
    fields: Mapping[str, Any],
    allowed: Sequence[addresses.Network],
    *,
    by: User,
) -> list[str]:
    """Change the given fields; return the names of those that changed (audited, never their
    values). Raises ``InvalidEndpoint`` for an unknown field or a bad value."""
    before = {name: getattr(endpoint, name) for name in FIELDS}
    _apply(endpoint, fields, allowed)
    changed = [name for name in FIELDS if getattr(endpoint, name) != before[name]]
    if changed:
        _record(session, "webhook.update", endpoint, by, ", ".join(changed))
    return changed


def _apply(
    endpoint: WebhookEndpoint, fields: Mapping[str, Any], allowed: Sequence[addresses.Network]
) -> None:
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise InvalidEndpoint(unknown[0], f"an endpoint has no field {unknown[0]!r}")
    if "url" in fields:
        endpoint.url = _url(fields["url"], allowed)
    if "name" in fields:
        endpoint.name = _text(fields["name"], "name", 80)
    if "format" in fields:
        if fields["format"] not in payloads.FORMATS:
            raise InvalidEndpoint("format", f"format is one of {', '.join(payloads.FORMATS)}")
        endpoint.format = fields["format"]
    if "event_types" in fields:
        endpoint.event_types = ",".join(_types(fields["event_types"]))
    for flag in FLAGS:
        if flag in fields:
            if not isinstance(fields[flag], bool):
                raise InvalidEndpoint(flag, f"{flag} is true or false")
            setattr(endpoint, flag, fields[flag])


def _url(value: Any, allowed: Sequence[addresses.Network]) -> str:
    url = _text(value, "url", 500).strip()
    if not url:
        raise InvalidEndpoint("url", "url is required")
    try:
        addresses.check_endpoint(url, allowed)
    except addresses.AddressRefused as error:
        raise InvalidEndpoint("url", f"url: {error}") from error
    return url


def _text(value: Any, field: str, longest: int) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidEndpoint(field, f"{field} must be text")
    if len(value) > longest:
        raise InvalidEndpoint(field, f"{field} has at most {longest} characters")
    return value


def _types(value: Any) -> list[str]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise InvalidEndpoint("event_types", "event_types is a list of event types")
    unknown = [v for v in value if v not in payloads.EVENT_TYPES]
    if unknown:
        raise InvalidEndpoint("event_types", f"unknown event type {unknown[0]!r}")
    if not value:
        raise InvalidEndpoint("event_types", "choose at least one event type")
    return [t for t in payloads.EVENT_TYPES if t in value]


def delete(session: Session, endpoint: WebhookEndpoint, *, by: User) -> None:
    _record(session, "webhook.delete", endpoint, by, "")
    session.delete(endpoint)


def rotate_secret(session: Session, endpoint: WebhookEndpoint, *, by: User) -> str:
    """A new signing secret, in force from the next attempt; the old one stops at once."""
    endpoint.secret = delivery.new_secret()
    _record(session, "webhook.secret", endpoint, by, "rotated")
    return endpoint.secret


def set_enabled(session: Session, endpoint: WebhookEndpoint, enabled: bool, *, by: User) -> int:
    """Enable (resending from where it stopped: returns how many deliveries came back) or
    disable an endpoint."""
    if enabled == endpoint.is_enabled:
        return 0
    revived = 0
    if enabled:
        revived = delivery.enable(session, endpoint)
    else:
        delivery.disable(endpoint, f"disabled by {by.name}")
    _record(session, "webhook.enable" if enabled else "webhook.disable", endpoint, by, "")
    return revived


def deliveries(session: Session, endpoint: WebhookEndpoint, limit: int = 50) -> list[Any]:
    """The endpoint's latest deliveries, newest first."""
    return list(
        session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint.id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
    )


def delivery_of(session: Session, endpoint: WebhookEndpoint, delivery_id: int) -> Any:
    found = session.get(WebhookDelivery, delivery_id)
    if found is None or found.endpoint_id != endpoint.id:
        raise UnknownEndpoint(delivery_id)
    return found


def as_json(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": endpoint.id,
        "name": endpoint.name,
        "url": endpoint.url,
        "format": endpoint.format,
        "event_types": endpoint.types,
        **{flag: getattr(endpoint, flag) for flag in FLAGS},
        "is_enabled": endpoint.is_enabled,
        "disabled_reason": endpoint.disabled_reason or None,
        "is_paused": endpoint.paused_at is not None,
        "last_success_at": _iso(endpoint.last_success_at),
    }


def delivery_json(row: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "webhook_id": row.message_id,
        "status": row.status,
        "attempts": row.attempts,
        "last_status": row.last_status,
        "latency_ms": row.last_latency_ms,
        "response": row.last_response,
        "next_attempt_at": _iso(row.next_attempt_at) if row.status == "pending" else None,
        "delivered_at": _iso(row.delivered_at),
    }


def _iso(moment: Any) -> str | None:
    from ..db import iso

    return iso(moment)


def _record(
    session: Session, action: str, endpoint: WebhookEndpoint, by: User, detail: str
) -> None:
    host = urlsplit(endpoint.url).hostname or "?"
    audit.record(
        session,
        action,
        f"webhook {endpoint.id} ({endpoint.name or host})",
        actor=by.name,
        user_id=by.id,
        detail=detail,
    )
