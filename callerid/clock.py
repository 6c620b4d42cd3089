"""The business's own date: birthdays and anniversaries turn at its midnight, not UTC's.

Entrypoints (views, CLI commands, the webhook recorder) work the date out here from the
configuration and hand it to the services, which never read the configuration themselves."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, tzinfo
from typing import Any

from .db import utcnow
from .zones import business_zone


def today(zone: tzinfo) -> date:
    """Today's date in ``zone``."""
    return utcnow().astimezone(zone).date()


def business_today(config: Mapping[str, Any]) -> date:
    """Today in the business's zone: ``CALLERID_TIMEZONE`` in ``config``, UTC when unset."""
    return today(business_zone(config))
