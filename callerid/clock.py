"""The business's own date: birthdays and anniversaries turn at its midnight, not UTC's."""

from __future__ import annotations

from datetime import date

from flask import current_app, has_app_context

from .db import utcnow
from .zones import business_zone


def today() -> date:
    """Today in ``CALLERID_TIMEZONE`` (UTC outside an app, as in scripts and benchmarks)."""
    zone = business_zone(current_app.config if has_app_context() else {})
    return utcnow().astimezone(zone).date()
