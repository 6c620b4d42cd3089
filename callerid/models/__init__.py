"""The tables, one module per subject: customers, calls, events, users, rollups, texts,
settings and webhooks.

Every model is named here too, so ``from callerid.models import Call`` keeps working for the
migrations and tests, and importing this package makes every table known (create_all, Alembic).
"""

from __future__ import annotations

from .calls import Call, Callback, Line, Note
from .customers import NOT_E164_POSTGRESQL, NOT_E164_SQLITE, Customer, PhoneNumber
from .events import Event, EventCounter
from .rollups import CallerDay, CallSlot, ScreenPopDay
from .settings import Setting
from .texts import OptOut, TextReceived, TextSent
from .users import ApiToken, AuditEntry, LoginSession, LoginThrottle, User
from .webhooks import WebhookDelivery, WebhookEndpoint

__all__ = [
    "NOT_E164_POSTGRESQL",
    "NOT_E164_SQLITE",
    "ApiToken",
    "AuditEntry",
    "Call",
    "CallSlot",
    "Callback",
    "CallerDay",
    "Customer",
    "Event",
    "EventCounter",
    "Line",
    "LoginSession",
    "LoginThrottle",
    "Note",
    "OptOut",
    "PhoneNumber",
    "ScreenPopDay",
    "Setting",
    "TextReceived",
    "TextSent",
    "User",
    "WebhookDelivery",
    "WebhookEndpoint",
]
