"""Time zones read one way: an IANA name as a zone, the business's own zone, local midnights,
and the longest period a report may cover."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# One year at most, for the insights API and pages alike: their numbers are counted from the
# calls themselves, and on SQLite a longer window holds a worker (and its webhooks) for seconds.
MAX_DAYS = 366


class UnknownZone(ValueError):
    """A name that is no IANA time zone; the message names it."""

    def __init__(self, name: str) -> None:
        super().__init__(f"{name!r} is not an IANA time zone")
        self.name = name


def zone_named(name: str | None) -> ZoneInfo:
    """The IANA zone ``name`` ("Europe/Berlin"); UTC for None or "". Raises ``UnknownZone``."""
    try:
        return _zone(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise UnknownZone(name or "") from None


def business_zone(settings: Mapping[str, Any]) -> ZoneInfo:
    """The business's zone, ``CALLERID_TIMEZONE`` of ``settings``; UTC when it is unset or no
    zone, so that a typo in the settings never turns every page into an error."""
    try:
        return zone_named(settings.get("CALLERID_TIMEZONE"))
    except UnknownZone:
        return _zone("UTC")


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The instant ``day`` begins in ``zone``, in UTC. Raises OverflowError near year 1 or
    9999, where a local midnight has no UTC twin."""
    return datetime.combine(day, time(), zone).astimezone(UTC)


@lru_cache(maxsize=32)
def _zone(name: str) -> ZoneInfo:
    # ZoneInfo caches too, but reads the file system on a miss: cached names skip it entirely.
    return ZoneInfo(name)
