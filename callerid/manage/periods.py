"""The period a manager page reports on: a preset (today, the last 7, 30 or 90 days) or a custom
range of whole local days, read from the query string in a time zone."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from .. import zones

# key -> (label, local days it covers, today included)
PRESETS: dict[str, tuple[str, int]] = {
    "today": ("Today", 1),
    "7d": ("Last 7 days", 7),
    "30d": ("Last 30 days", 30),
    "90d": ("Last 90 days", 90),
}
DEFAULT = "30d"
CUSTOM = "custom"
MAX_DAYS = zones.MAX_DAYS  # as GET /api/insights


class BadPeriod(ValueError):
    """The query string does not name a period we can show; the message says why, for people."""


@dataclass(frozen=True, slots=True)
class Period:
    key: str
    first: date
    last: date
    since: datetime
    until: datetime
    zone: ZoneInfo

    @property
    def label(self) -> str:
        if self.key in PRESETS:
            return PRESETS[self.key][0]
        if self.first == self.last:
            return _long(self.first)
        return f"{_long(self.first)} – {_long(self.last)}"


def zone_named(name: str) -> ZoneInfo:
    """The IANA zone ``name`` ("Europe/Berlin"). Raises ``BadPeriod``."""
    try:
        return zones.zone_named(name)
    except zones.UnknownZone:
        raise BadPeriod(
            f"“{name}” is not a time zone we know; use a name such as "
            "Europe/Berlin or America/New_York."
        ) from None


def choose(args: Mapping[str, str], now: datetime, default_zone: str) -> Period:
    """The period ``args`` asks for: ``period`` (a key of ``PRESETS`` or ``custom``), ``from`` and
    ``to`` (ISO dates, both included; they alone mean custom) and ``tz`` (``default_zone`` when
    absent). Presets end ``now``; a custom range ends at midnight after its last day.
    Raises ``BadPeriod`` with a message for the page."""
    zone = zone_named(args.get("tz") or default_zone)
    key = args.get("period") or (CUSTOM if args.get("from") or args.get("to") else DEFAULT)
    if key == CUSTOM:
        return _custom(args.get("from") or "", args.get("to") or "", zone)
    if key not in PRESETS:
        raise BadPeriod("Choose one of the periods offered, or pick the first and last day.")
    today = now.astimezone(zone).date()
    first = today - timedelta(days=PRESETS[key][1] - 1)
    return Period(key, first, today, zones.local_midnight(first, zone), now, zone)


def _custom(raw_first: str, raw_last: str, zone: ZoneInfo) -> Period:
    if not raw_first or not raw_last:
        raise BadPeriod("Pick both the first and the last day of the period.")
    first, last = _day(raw_first, "first"), _day(raw_last, "last")
    if first > last:
        raise BadPeriod("The first day must not come after the last day.")
    if (last - first).days + 1 > MAX_DAYS:
        raise BadPeriod(f"Pick at most {MAX_DAYS} days at a time.")
    try:
        return Period(
            CUSTOM,
            first,
            last,
            zones.local_midnight(first, zone),
            zones.local_midnight(last + timedelta(1), zone),
            zone,
        )
    except OverflowError:  # near year 1 or 9999 a local midnight has no UTC twin
        raise BadPeriod("Pick days nearer to today.") from None


def _day(raw: str, which: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise BadPeriod(f"The {which} day “{raw}” is not a date; write it as 2026-01-31.") from None


def _long(day: date) -> str:
    return f"{day.day} {day:%b %Y}"
