"""The settings a manager changes on the settings page, kept in the database so that every
instance reads the same values: the "sorry we missed you" text, its quiet hours and caps, and
what the whisper says. Secrets and switches stay in the environment (config/).

Each setting is one row of ``settings`` holding its value as JSON; a setting never saved has
its default below, so a new database needs no rows.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from . import audit, db, inputs
from .models import Setting, User

log = logging.getLogger(__name__)


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
                saved[key] = _checked(key, json.loads(value))
            except ValueError:
                # A hand-edited row (bad JSON, "50" for a number, 25:00 for an hour): its
                # default is better than a settings page and a text sender that crash on it.
                log.warning("setting %s in the database is not valid; its default is used", key)
    return BusinessSettings(**saved)


PLACEHOLDERS = ("business", "name", "booking_link")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
# Longest values a manager may save. A text of 320 characters is two SMS segments of plain
# characters; Twilio splits longer ones and bills each segment.
MAX_TEXT = 320
MAX_NAME = 80
MAX_LINK = 300
# Whole-number settings: (smallest, largest, unit). Above 12 h a text is dropped anyway, a
# cooldown of 30 days is already "once a month", and 1,000 texts a day is past any front desk.
RANGES: dict[str, tuple[int, int, str]] = {
    "text_delay_minutes": (1, 60, "minutes"),
    "cooldown_hours": (1, 720, "hours"),
    "daily_cap": (1, 1000, "texts"),
}
FLAGS = ("text_other_countries", "whisper_vip", "whisper_alerts", "whisper_last_call")
LABELS = {
    "business_name": "Business name",
    "text_template": "Text",
    "booking_link": "Booking link",
    "quiet_start": "Quiet hours start",
    "quiet_end": "Quiet hours end",
    "text_delay_minutes": "Delay",
    "cooldown_hours": "Cooldown",
    "daily_cap": "Daily cap",
    "text_other_countries": "Other countries",
    "whisper_vip": "Whisper VIP",
    "whisper_alerts": "Whisper alerts",
    "whisper_last_call": "Whisper last call",
}
AUDIT_ACTION = "settings.update"


class InvalidSettings(ValueError):
    """Values a manager must fix: ``errors`` maps each field to what is wrong, in words."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def fill(template: str, *, business: str, name: str, booking_link: str) -> str:
    """The text ``template`` says, its placeholders replaced. Only the three known placeholders
    are replaced (never ``str.format``, which would read attributes a template names); ``name``
    is the greeting name with its leading space (" Anna"), or "" for an unknown caller."""
    values = {"business": business, "name": name, "booking_link": booking_link}
    return _PLACEHOLDER.sub(lambda found: values.get(found.group(1), found.group(0)), template)


def example_text(settings: BusinessSettings, name: str = "Anna") -> str:
    """The text a known caller called ``name`` would receive: the settings page's preview."""
    return fill(
        settings.text_template,
        business=settings.business_name,
        name=f" {name}" if name else "",
        booking_link=settings.booking_link,
    )


def validate(changes: Mapping[str, Any]) -> dict[str, Any]:
    """``changes`` checked and made typed (whole numbers may come as form text). Raises
    ``InvalidSettings`` naming every field that is wrong, unknown fields included."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for key, value in changes.items():
        if key not in KEYS:
            errors[key] = f"There is no setting called {key!r}."
            continue
        try:
            clean[key] = _checked(key, value)
        except ValueError as error:
            errors[key] = str(error)
    if errors:
        raise InvalidSettings(errors)
    return clean


def save(session: Session, changes: Mapping[str, Any], by: User) -> list[str]:
    """Check ``changes`` (``validate``), write the values that differ from those in force and
    audit each one with its old and new value; return the keys changed, in the settings'
    order. Nothing is written when any value is wrong. The caller commits."""
    clean = validate(changes)
    db.lock_for_writing(session)  # SQLite: read the values in force as no one else writes
    current = asdict(load(session))
    changed = [key for key in KEYS if key in clean and clean[key] != current[key]]
    for key in changed:
        _put(session, key, json.dumps(clean[key]), by.name[:80])
        # Settings are the business's, never a customer's: their values may go in the trail.
        audit.record(
            session,
            AUDIT_ACTION,
            f"setting {key}",
            actor=by.name,
            user_id=by.id,
            detail=f"{json.dumps(current[key])} -> {json.dumps(clean[key])}",
        )
    session.flush()
    return changed


def _put(session: Session, key: str, value: str, by: str) -> None:
    """Insert or overwrite one setting. An upsert: two managers saving a setting never saved
    before, at the same moment on PostgreSQL, both land (the later wins) instead of the second
    failing on the key."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = {"value": value, "updated_by": by, "updated_at": db.utcnow()}
    statement = insert(Setting).values(key=key, **values)
    session.execute(statement.on_conflict_do_update(index_elements=[Setting.key], set_=values))


def _checked(key: str, value: Any) -> Any:
    if key in FLAGS:
        if not isinstance(value, bool):
            raise ValueError(f"{LABELS[key]} is on or off (true or false).")
        return value
    if key in RANGES:
        return _whole(key, value)
    if not isinstance(value, str):
        raise ValueError(f"{LABELS[key]} must be text.")
    problem = inputs.text_problem(value)
    if problem:
        raise ValueError(f"{LABELS[key]} {problem}.")
    value = value.strip()
    if key == "text_template":
        return _template(value)
    if key == "booking_link":
        return _link(value)
    if key in ("quiet_start", "quiet_end"):
        if not _TIME.fullmatch(value):
            raise ValueError(f"{LABELS[key]}: write a time of day as HH:MM, from 00:00 to 23:59.")
        return value
    if len(value) > MAX_NAME:
        raise ValueError(f"The business name is {len(value)} characters; {MAX_NAME} at most.")
    return value


def _whole(key: str, value: Any) -> int:
    low, high, unit = RANGES[key]
    number = value if isinstance(value, int) and not isinstance(value, bool) else None
    if isinstance(value, str):
        number = inputs.whole_number(value.strip())
    if number is None or not low <= number <= high:
        raise ValueError(f"{LABELS[key]}: a whole number of {unit} from {low} to {high:,}.")
    return number


def _template(value: str) -> str:
    if not value:
        raise ValueError("The text cannot be empty.")
    if len(value) > MAX_TEXT:
        raise ValueError(f"The text is {len(value)} characters; {MAX_TEXT} at most.")
    allowed = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
    for found in _PLACEHOLDER.finditer(value):
        if found.group(1) not in PLACEHOLDERS:
            raise ValueError(
                f"Unknown placeholder {found.group(0)} in the text: use only {allowed}."
            )
    if "{" in _PLACEHOLDER.sub("", value) or "}" in _PLACEHOLDER.sub("", value):
        raise ValueError(f"A brace in the text is not closed: placeholders are written {allowed}.")
    return value


def _link(value: str) -> str:
    if not value:
        return value  # no booking link: {booking_link} says nothing
    if len(value) > MAX_LINK:
        raise ValueError(f"The booking link is {len(value)} characters; {MAX_LINK} at most.")
    parts = urlsplit(value)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or any(c.isspace() for c in value)
    ):
        raise ValueError(
            "The booking link must be a web address starting with https:// or http://."
        )
    return value
