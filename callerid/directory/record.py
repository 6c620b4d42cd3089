"""The rules of one customer record: a table of its fields with their limits, and the checks
that forms, the API, the desk and the CSV import all apply through it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from .. import inputs


class InvalidCustomer(ValueError):
    """A value that does not fit (wrong type, too long, unknown field); the message says which."""


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a customer record as every entrypoint names it."""

    key: str  # the name forms, the API and the CSV export use
    kind: str  # "text", "flag", "date" or "tags"
    limit: int = 0  # longest text in characters (the column's size); 0 where none applies
    attribute: str = ""  # the model attribute, where it differs from ``key``
    at_desk: bool = False  # staff may change it from a card on the board

    @property
    def column(self) -> str:
        return self.attribute or self.key


# The one table. Text limits are the columns' sizes; notes and preferences are TEXT columns,
# held to 4000 so that a card stays readable (the desk's and the API's limit, now the import's).
FIELDS = (
    Field("name", "text", 200, at_desk=True),
    Field("salutation", "text", 40, at_desk=True),
    Field("preferred_name", "text", 100, at_desk=True),
    Field("email", "text", 200),
    Field("notes", "text", 4000, at_desk=True),
    Field("preferences", "text", 4000, at_desk=True),
    Field("alerts", "text", 300, at_desk=True),
    Field("pronunciation", "text", 120, at_desk=True),
    Field("tags", "tags", 400),
    Field("vip", "flag", attribute="is_vip", at_desk=True),
    Field("do_not_greet", "flag", at_desk=True),
    # Asked never to be contacted: managers set it, the desk only sees it.
    Field("do_not_contact", "flag"),
    Field("birthday", "date"),
    Field("anniversary", "date"),
)
BY_KEY = {field.key: field for field in FIELDS}
TEXT_FIELDS = {field.key: field.limit for field in FIELDS if field.kind == "text"}
FLAGS = {field.key: field.column for field in FIELDS if field.kind == "flag"}
DATES = tuple(field.key for field in FIELDS if field.kind == "date")
DESK_FIELDS = tuple(field.key for field in FIELDS if field.at_desk)
TAGS_LENGTH = BY_KEY["tags"].limit
LABEL_LENGTH = 40  # a phone number's label ("mobile", "home"): the column's size

# How a spreadsheet cell says yes or no; an empty cell is no.
TRUE_WORDS = frozenset({"yes", "y", "true", "1", "x"})
FALSE_WORDS = frozenset({"no", "n", "false", "0", ""})
# Regions that write dates month first (1/2/1980 is 2 January elsewhere, 1 February here).
MONTH_FIRST = {"US"}


def checked(key: str, value: Any) -> tuple[str, Any]:
    """The model attribute for the field ``key`` and ``value`` as it stores it, for values sent
    as JSON or by a form (flags are booleans, dates ISO texts or None, tags a list or one
    comma-separated text). Raises ``InvalidCustomer`` saying what does not fit."""
    field = BY_KEY[key]
    if field.kind == "text":
        return key, text(key, value)
    if field.kind == "flag":
        return field.column, flag(key, value)
    if field.kind == "date":
        return key, iso_date(key, value)
    return key, ", ".join(tags_of(value))


def text(key: str, value: Any) -> str:
    """``value`` as the text field ``key`` stores it: trimmed, storable, within its limit, and
    for ``email`` shaped like an address. None is empty. Raises ``InvalidCustomer`` saying what
    does not fit."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidCustomer(f"{key} must be text")
    storable(key, value)
    value = value.strip()
    if len(value) > TEXT_FIELDS[key]:
        raise InvalidCustomer(f"{key} has at most {TEXT_FIELDS[key]} characters")
    if key == "email" and value and ("@" not in value or any(c.isspace() for c in value)):
        raise InvalidCustomer(f"{value!r} is not an email address")
    return value


def storable(key: str, value: str) -> None:
    """Raise ``InvalidCustomer`` when ``value`` cannot be stored as text (NUL, lone surrogate)."""
    # The request gate refuses such text on the web; the CSV import and the CLI come here only.
    problem = inputs.text_problem(value)
    if problem:
        raise InvalidCustomer(f"{key} {problem}")


def flag(key: str, value: Any) -> bool:
    """A flag sent as JSON or by a form: only ``true`` or ``false``. Raises ``InvalidCustomer``."""
    if not isinstance(value, bool):
        raise InvalidCustomer(f"{key} must be true or false")
    return value


def flag_word(key: str, word: str) -> bool:
    """A flag as a spreadsheet cell writes it (``TRUE_WORDS``, ``FALSE_WORDS``, any case).
    Raises ``InvalidCustomer`` naming the flag as a person would ("vip 'maybe' ...")."""
    plain = word.strip().lower()
    if plain in TRUE_WORDS:
        return True
    if plain in FALSE_WORDS:
        return False
    name = key.removeprefix("is_").replace("_", " ")
    raise InvalidCustomer(f"{name} '{word}' is not yes or no")


def iso_date(key: str, value: Any) -> date | None:
    """A date sent as JSON or by a form: ``YYYY-MM-DD``, or empty/None for none."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidCustomer(f"{key} must be a date like 1980-05-17, or null")


def spreadsheet_date(key: str, value: str, region: str, today: date) -> date | None:
    """A date as a spreadsheet cell writes it (see ``parse_date``), or None for an empty cell.
    Raises ``InvalidCustomer``."""
    if not value:
        return None
    try:
        return parse_date(value, region, today=today)
    except ValueError as exc:
        raise InvalidCustomer(f"{key} '{value}' is not a date (use YYYY-MM-DD)") from exc


def parse_date(text: str, region: str = "US", *, today: date | None = None) -> date:
    """Read a date as people write it in spreadsheets. Raises ValueError.

    Always accepted: ISO ``1980-05-13`` (a time after it is ignored) and ``1980/05/13``. Dotted
    ``13.05.1980`` is day first. Slashed or dashed ``05/13/1980`` is month first in the US and day
    first elsewhere, unless only the other reading is a real date (``13/05/1980`` is 13 May
    anywhere). Two-digit years up to this year's are 20xx, later ones 19xx.
    """
    text = text.strip()
    if match := re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})([T ].*)?", text):
        year, month, day = (int(part) for part in match.group(1, 2, 3))
        return date(year, month, day)
    match = re.fullmatch(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})", text)
    if not match:
        raise ValueError(text)
    first, separator, second, year_text = match.groups()
    year = int(year_text)
    if len(year_text) == 2:
        this_year = (today or date.today()).year
        year += 2000 if year <= this_year % 100 else 1900
    month_first = separator != "." and region.upper() in MONTH_FIRST
    readings = [(int(second), int(first)), (int(first), int(second))]  # (month, day)
    if month_first:
        readings.reverse()
    for month, day in readings:
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise ValueError(text)


def tags_of(value: Any) -> list[str]:
    """Tags from a list of texts or one comma-separated text: trimmed, without repeats (compared
    in any case), first spelling kept, within ``TAGS_LENGTH`` together. Raises
    ``InvalidCustomer``."""
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise InvalidCustomer("tags must be a list of texts or one comma-separated text")
    if any("," in tag for tag in value):
        raise InvalidCustomer("a tag cannot contain a comma")
    for tag in value:
        storable("tags", tag)
    tags: list[str] = []
    for tag in (t.strip() for t in value):
        if tag and tag.lower() not in {t.lower() for t in tags}:
            tags.append(tag)
    if len(", ".join(tags)) > TAGS_LENGTH:
        raise InvalidCustomer(f"tags have at most {TAGS_LENGTH} characters together")
    return tags


def split_tags(text: str) -> list[str]:
    """Tags as a spreadsheet cell or the ``tags`` column holds them, split on ``,`` or ``;``."""
    return [tag.strip() for tag in re.split(r"[,;]", text) if tag.strip()]


def join_tags(tags: list[str]) -> str:
    """Tags as the model stores them ("a, b"), without repeats (any case); the tags that would
    pass ``TAGS_LENGTH`` are left off, for merges where two valid lists meet."""
    kept: list[str] = []
    seen: set[str] = set()
    for tag in tags:
        if tag.casefold() in seen:
            continue
        if len(", ".join([*kept, tag])) > TAGS_LENGTH:
            break
        kept.append(tag)
        seen.add(tag.casefold())
    return ", ".join(kept)


def label(value: Any) -> str:
    """A phone number's label, trimmed, within ``LABEL_LENGTH``. Raises ``InvalidCustomer``."""
    value = (value or "").strip()
    if len(value) > LABEL_LENGTH:
        raise InvalidCustomer(f"a label has at most {LABEL_LENGTH} characters")
    return value
