"""The business's own date: birthdays and anniversaries turn at its midnight, not UTC's.

Entrypoints (views, CLI commands, the webhook recorder) work the date out here from the
configuration and hand it to the services, which never read the configuration themselves."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from .db import utcnow


def zone(name: str | None) -> ZoneInfo:
    """The time zone named ``name`` (``CALLERID_TIMEZONE``'s value); UTC when empty."""
    return _zone(name or "UTC")


def today(zone: tzinfo) -> date:
    """Today's date in ``zone``."""
    return utcnow().astimezone(zone).date()


def business_today(config: Mapping[str, Any]) -> date:
    """Today in the business's zone: ``CALLERID_TIMEZONE`` in ``config``, UTC when unset."""
    return today(zone(config.get("CALLERID_TIMEZONE")))


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)
