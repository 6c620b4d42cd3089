"""The settings a manager changes on the settings page, kept in the database so that every
instance reads the same values: the "sorry we missed you" text, its quiet hours and caps, and
what the whisper says. Secrets and switches stay in the environment (config/).

Each setting is one row of ``settings`` holding its value as JSON; a setting never saved has
its default below, so a new database needs no rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Setting


@dataclass(frozen=True)
class BusinessSettings:
    # The business's name as a text names it ({business}); empty means the text leaves it out.
    business_name: str = ""
    # The missed-call text; placeholders {business}, {name} (the greeting name, or nothing for
    # an unknown caller) and {booking_link}.
    text_template: str = (
        "Hi{name}, sorry we missed your call at {business}. We will call you back soon. "
        "To book: {booking_link}"
    )
    booking_link: str = ""
    # Quiet hours in CALLERID_TIMEZONE, "HH:MM": a text falling due inside waits until they end.
    quiet_start: str = "21:00"
    quiet_end: str = "09:00"
    text_delay_minutes: int = 2  # after the missed call ends
    cooldown_hours: int = 24  # at most one text per number in this many hours
    daily_cap: int = 50  # texts per day in CALLERID_TIMEZONE, all numbers together
    text_other_countries: bool = False  # numbers outside CALLERID_DEFAULT_REGION's country
    # What the whisper says besides the name: the VIP mark, the alerts, the last call.
    whisper_vip: bool = True
    whisper_alerts: bool = True
    whisper_last_call: bool = True


DEFAULTS = BusinessSettings()
KEYS = tuple(field.name for field in fields(BusinessSettings))


def load(session: Session) -> BusinessSettings:
    """The settings as saved, each unsaved (or unreadable) one at its default."""
    saved: dict[str, Any] = {}
    for key, value in session.execute(select(Setting.key, Setting.value)):
        if key in KEYS:
            try:
                saved[key] = json.loads(value)
            except ValueError:
                continue  # a hand-edited row: its default is better than a crash
    return BusinessSettings(**saved)
