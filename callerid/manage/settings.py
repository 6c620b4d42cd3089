"""GET/POST /settings (managers): what the business's own texts and whisper say, kept in the
database (``business_settings``), beside the environment switches that turn those features on
and the last texts Twilio refused or could not deliver.

"Preview" shows the example text for the values typed and saves nothing; "Save" saves them
(every change audited) or shows each error beside its field, with the values as typed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from flask import current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from phonenumbers import NumberParseException
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import business_settings, db, numbers, textstatus, zones
from ..auth import manager_required
from ..business_settings import FLAGS, KEYS, LABELS, InvalidSettings
from ..models import TextSent
from . import bp
from .writes import saved

# Delivery problems listed: the latest few are enough to see what goes wrong.
PROBLEMS_SHOWN = 10


@dataclass(frozen=True, slots=True)
class Switch:
    name: str  # the environment variable
    on: bool
    what: str  # what it turns on, in words


@dataclass(frozen=True, slots=True)
class Problem:
    text: TextSent
    number: str  # the customer's number, for people
    words: str  # what went wrong


@bp.get("/settings", endpoint="settings")
@manager_required
def settings_page() -> ResponseReturnValue:
    values = asdict(business_settings.load(db.session()))
    return _page(values, {})


@bp.post("/settings", endpoint="settings_save")
@manager_required
def settings_save() -> ResponseReturnValue:
    session = db.session()
    typed = _typed(request.form)
    if request.form.get("action") == "preview":
        try:
            business_settings.validate(typed)
        except InvalidSettings as error:
            return _page(typed, error.errors, 400)
        return _page(typed, {}, previewed=True)
    try:
        changed = business_settings.save(session, typed, by=current_user._get_current_object())
    except InvalidSettings as error:
        session.rollback()
        return _page(typed, error.errors, 400)
    said = f"Saved: {', '.join(LABELS[key] for key in changed)}." if changed else "Nothing changed."
    return saved(said, url_for("manage.settings"))


def _typed(form: Mapping[str, str]) -> dict[str, Any]:
    """The form's values by setting: an unticked box is not sent, so it means off."""
    typed: dict[str, Any] = {key: form.get(key, "") for key in KEYS if key not in FLAGS}
    typed.update({key: form.get(key) == "on" for key in FLAGS})
    return typed


def _page(
    values: dict[str, Any], errors: dict[str, str], status: int = 200, previewed: bool = False
) -> ResponseReturnValue:
    session = db.session()
    # The preview uses the values as typed, so a manager sees the text before saving it.
    example = business_settings.example_text(business_settings.BusinessSettings(**values))
    page = render_template(
        "manage/settings.html",
        values=values,
        errors=errors,
        labels=LABELS,
        ranges=business_settings.RANGES,
        max_text=business_settings.MAX_TEXT,
        example=example,
        warnings=_warnings(values),
        previewed=previewed,
        switches=_switches(),
        problems=_problems(session),
        cap_reached=_cap_reached(session),
    )
    return page, status


def _warnings(values: Mapping[str, Any]) -> list[str]:
    """Placeholders the text uses whose value is empty: allowed, but the text reads oddly."""
    template = str(values.get("text_template", ""))
    return [
        f"{placeholder} says nothing: the {LABELS[key].lower()} is empty."
        for placeholder, key in (
            ("{business}", "business_name"),
            ("{booking_link}", "booking_link"),
        )
        if placeholder in template and not str(values.get(key, "")).strip()
    ]


def _switches() -> list[Switch]:
    config = current_app.config
    return [
        Switch(
            "CALLERID_WHISPER",
            bool(config.get("CALLERID_WHISPER", False)),
            "The person who answers hears who is calling before the caller is put through.",
        ),
        Switch(
            "CALLERID_CALLBACKS",
            bool(config.get("CALLERID_CALLBACKS", False)),
            "A “Call back” button places the call through Twilio.",
        ),
        Switch(
            "CALLERID_TEXT_BACK",
            bool(config.get("CALLERID_TEXT_BACK", False)),
            "A missed caller receives the text below.",
        ),
    ]


def _cap_reached(session: Session) -> int | None:
    """The daily cap in force when today's texts reached it, else None."""
    saved = business_settings.load(session)
    zone = zones.business_zone(current_app.config)
    return saved.daily_cap if textstatus.cap_reached_today(session, saved, zone) else None


def _problems(session: Session) -> list[Problem]:
    """The latest texts Twilio refused or could not deliver, newest first."""
    region = current_app.config.get("CALLERID_DEFAULT_REGION") or "US"
    rows = session.scalars(
        select(TextSent)
        .where((TextSent.error != "") | TextSent.error_code.is_not(None))
        .order_by(TextSent.updated_at.desc(), TextSent.id.desc())
        .limit(PROBLEMS_SHOWN)
    )
    return [Problem(row, _number(row.number, region), _words(row)) for row in rows]


def _number(number: str, region: str) -> str:
    try:
        return numbers.display(number, region) if number.startswith("+") else number
    except NumberParseException:  # a number stored by hand: shown as it is
        return number


def _words(text: TextSent) -> str:
    if text.error:
        return text.error
    return f"Twilio error {text.error_code}, without a description."
