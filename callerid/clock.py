"""The business's own date: birthdays and anniversaries turn at its midnight, not UTC's."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

from .db import utcnow


def today() -> date:
    """Today in ``CALLERID_TIMEZONE`` (UTC outside an app, as in scripts and benchmarks)."""
    name = current_app.config.get("CALLERID_TIMEZONE") if has_app_context() else None
    return utcnow().astimezone(_zone(name or "UTC")).date()


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)
