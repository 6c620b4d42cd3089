"""Customers in and out of CSV files: a forgiving import that merges by number, and an export
that the import reads back.

Import rules, in short (``import_customers`` has the details):

- Headers are matched loosely (case, spaces, underscores and punctuation do not matter).
- A number already known (in the database or earlier in the file) updates its owner when the
  names are compatible; a different person on the same number becomes a second customer sharing
  it, as a household does.
- Bad rows are reported by line; unless asked to skip them, nothing is written at all.
- A stray quote that opens a field and never closes where a field ends is a bad row of its own
  line; reading goes on at the next line, so it never takes the rows after it along.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import chain, islice
from typing import Any

from sqlalchemy import Table, bindparam, exists, func, insert, select, text, update
from sqlalchemy.orm import Session

from .. import numbers
from ..db import iso, max_length, table_of, utcnow
from ..models import Customer, PhoneNumber
from . import customers

# Normalised header (see _header_key) -> customer field. "first"/"last" are joined into name.
_COLUMNS = {
    **dict.fromkeys(("name", "fullname", "customer", "customername"), "name"),
    **dict.fromkeys(("first", "firstname", "givenname", "forename"), "first"),
    **dict.fromkeys(("last", "lastname", "surname", "familyname"), "last"),
    **dict.fromkeys(("email", "emailaddress", "emailvalue"), "email"),
    **dict.fromkeys(("notes", "note", "comments", "comment"), "notes"),
    **dict.fromkeys(("preferences", "preference"), "preferences"),
    **dict.fromkeys(("alerts", "alert"), "alerts"),
    **dict.fromkeys(("pronunciation", "pronounce", "saynameas"), "pronunciation"),
    **dict.fromkeys(("vip", "isvip"), "is_vip"),
    **dict.fromkeys(("salutation", "title"), "salutation"),
    **dict.fromkeys(("preferredname", "nickname"), "preferred_name"),
    **dict.fromkeys(("tags", "tag"), "tags"),
    **dict.fromkeys(("birthday", "dateofbirth", "dob", "birthdate"), "birthday"),
    **dict.fromkeys(("anniversary",), "anniversary"),
    **dict.fromkeys(("donotgreet", "dontgreet", "nogreeting"), "do_not_greet"),
}
# Number columns -> the label their numbers get. Generic columns give no label. Digits in a
# header are ignored, so "Phone 2" is a phone column and Google's "Phone 1 - Value" one too.
_NUMBER_COLUMNS = {
    **dict.fromkeys(("phone", "phones", "telephone", "tel", "number", "numbers"), ""),
    **dict.fromkeys(("phonenumber", "phonenumbers", "telephonenumber", "phonevalue"), ""),
    **dict.fromkeys(("primaryphone", "otherphone"), ""),
    **dict.fromkeys(("mobile", "mobilephone", "mobilenumber", "cell", "cellphone"), "mobile"),
    **dict.fromkeys(("home", "homephone"), "home"),
    **dict.fromkeys(("work", "workphone", "businessphone", "office"), "work"),
    **dict.fromkeys(("landline",), "landline"),
}
# Known columns that the import does not use (they come from our own export): no warning.
_UNUSED_COLUMNS = {"id", "customerid", "createdat", "updatedat"}

EXPORT_HEADER = [
    "id",
    "name",
    "salutation",
    "preferred_name",
    "phone",
    "email",
    "notes",
    "preferences",
    "tags",
    "vip",
    "do_not_greet",
    "birthday",
    "anniversary",
    "created_at",
    # Added later, at the end: scripts that read the columns by position keep working.
    "alerts",
    "pronunciation",
]
EXAMPLE_HEADER = "name,phone,mobile,email,notes,vip,tags,birthday"

_TEXT_FIELDS: tuple[str, ...] = ("salutation", "preferred_name", "email")  # filled when empty
_TEXT_FIELDS += ("alerts", "pronunciation")
# Checked by the directory's one validator (customers.checked_text), as forms and the API are.
_CHECKED_FIELDS = ("alerts", "pronunciation")
_LONG_FIELDS = ("notes", "preferences")  # appended to
_FLAGS = ("is_vip", "do_not_greet")  # yes wins
_DATES = ("birthday", "anniversary")  # filled in when empty
_MERGED = ("name", *_TEXT_FIELDS, *_LONG_FIELDS, "tags", *_FLAGS, *_DATES)
_EXPORTED = ("id", *_MERGED, "created_at")

_TRUE = {"yes", "y", "true", "1", "x"}
_FALSE = {"no", "n", "false", "0", ""}
_TITLES = {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "lord", "lady"}
# Regions that write dates month first (1/2/1980 is 2 January elsewhere, 1 February here).
_MONTH_FIRST = {"US"}
# Spreadsheets run cells starting with these as formulas; the export quotes them with "'".
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_CHUNK = 2000  # rows per INSERT batch and ids per IN (...) query
_NEXT_CUSTOMER_IDS = text(
    "SELECT nextval(pg_get_serial_sequence('customers', 'id')) FROM generate_series(1, :count)"
)


class BadCsv(ValueError):
    """The file cannot be imported at all (no header, or no name or number column)."""


@dataclass(frozen=True, slots=True)
class BadRow:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(slots=True)
class ImportResult:
    """What an import did, or would do (dry run, or stopped by bad rows: ``written`` is False).

    ``created`` new customers; ``updated`` existing ones that gained something; ``unchanged``
    existing ones the file had nothing new for; ``merged`` rows folded into a customer that an
    earlier row already created or matched; ``numbers_added`` numbers given to existing
    customers; ``shared`` notes about numbers now shared by different people; ``bad`` rows not
    imported, with their reasons.
    """

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0
    numbers_added: int = 0
    shared: list[str] = field(default_factory=list)
    bad: list[BadRow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    written: bool = False

    @property
    def good_rows(self) -> int:
        return self.rows - len(self.bad)


def import_customers(
    session: Session,
    source: str | bytes | Iterable[str],
    region: str,
    *,
    skip_bad: bool = False,
    dry_run: bool = False,
    progress: Callable[[float], None] | None = None,
) -> ImportResult:
    """Read customers from CSV (a header row, then one customer per row) into the session.

    ``source`` is the file's text, its bytes (UTF-8 with or without BOM, UTF-16 with BOM, else
    read as Windows-1252 as older Excel writes it) or an iterable of lines such as a text file
    opened with ``newline=""``. The delimiter is whichever of ``, ; tab |`` the header uses most;
    an Excel ``sep=;`` first line is honoured. Numbers without a country code are read in
    ``region``. Line numbers in reports are physical lines of the file (header is line 1), so a
    quoted note spanning three lines counts three.

    Columns (any case; spaces, underscores and punctuation ignored): ``name`` or ``first`` +
    ``last``; any number of number columns (``phone``, ``mobile``, ``home``, ``work``, ...), each
    labelled by its kind, a cell may hold several numbers separated by ``;`` or ``,``; ``email``,
    ``notes``, ``preferences``, ``salutation``/``title``, ``preferred name``/``nickname``, ``tags``
    (``,`` or ``;`` separated), ``vip`` and ``do not greet`` (yes/no/true/false/1/0/y/n/x, empty is
    no), ``birthday`` and ``anniversary`` (see ``parse_date``). ``Last, First`` names are turned
    round. Other columns are ignored, with one warning.

    A row is bad when a number, date or yes/no cell cannot be read, a value is too long, it has
    neither name nor number, or it has no name and its number belongs to several customers; a
    line whose stray quote opens a field that never closes where a field ends is bad on its own,
    and reading goes on at the next line.

    Merging, by number: a row whose number belongs to a customer (in the database, or created by
    an earlier row) with a compatible name (see ``same_person``) updates that customer: empty
    fields are filled, never overwritten; notes and preferences are appended unless already
    there; tags are added; vip and do-not-greet turn on, never off; new numbers are added. A row
    with no name updates the number's only owner. A row with a different person's name on a known
    number creates a new customer who shares that number (a household on one landline). A row
    without numbers matches a customer of the same name who has no number either.

    Nothing is written on a dry run, nor, unless ``skip_bad``, when any row is bad; otherwise all
    good rows are written with bulk statements in the session's transaction: the caller commits
    or rolls back. ``progress`` is called now and then with the fraction done (0 to 1). Raises
    ``BadCsv`` for an empty file or a header without a name or a number column.
    """
    report = progress or (lambda _fraction: None)
    result = ImportResult()
    records = _records(source, result)
    header_line, header = next(records, (1, None))
    if header is None:
        raise BadCsv(f"the file is empty; it needs a header row such as: {EXAMPLE_HEADER}")
    if isinstance(header, _Unreadable):
        raise BadCsv(f"the header row (line {header_line}) cannot be read: {header.reason}")
    columns = _columns(header, result)
    rows = list(records)
    parsed = _parse_rows(rows, _RowReader(columns, region), result, report)
    plan = _Plan(session, result)
    plan.load(parsed)
    report(0.65)
    for row in parsed:
        plan.add(row)
    plan.count()
    result.bad.sort(key=lambda bad: bad.line)
    report(0.7)
    if not dry_run and (skip_bad or not result.bad):
        plan.write(lambda fraction: report(0.7 + 0.3 * fraction))
        result.written = True
    report(1.0)
    return result


def export_customers(session: Session, batch: int = 1000) -> Iterator[list[str]]:
    """Yield CSV rows: ``EXPORT_HEADER``, then one row per customer by id, numbers joined with
    ``"; "``. Streams with ``yield_per`` (a server-side cursor on PostgreSQL), so memory stays
    flat however many customers there are. Customers with neither a name nor a number (erased
    ones) are left out: there is nothing to import back. Cells that a spreadsheet would run as a
    formula get a leading ``'``, which the import removes again."""
    yield list(EXPORT_HEADER)
    fields = [getattr(Customer, key) for key in _EXPORTED]
    query = (
        select(*fields, PhoneNumber.number)
        .outerjoin(PhoneNumber, PhoneNumber.customer_id == Customer.id)
        .order_by(Customer.id, PhoneNumber.id)
        .execution_options(yield_per=batch)
    )
    current: Any = None
    phones: list[str] = []
    for row in session.execute(query):
        if current is not None and row.id != current.id:
            yield from _export_row(current, phones)
            phones = []
        current = row
        if row.number:
            phones.append(row.number)
    if current is not None:
        yield from _export_row(current, phones)


def _export_row(customer: Any, phones: list[str]) -> Iterator[list[str]]:
    if not customer.name and not phones:
        return
    yield [
        str(customer.id),
        _cell(customer.name),
        _cell(customer.salutation),
        _cell(customer.preferred_name),
        "; ".join(phones),
        _cell(customer.email),
        _cell(customer.notes),
        _cell(customer.preferences),
        _cell(customer.tags),
        "yes" if customer.is_vip else "no",
        "yes" if customer.do_not_greet else "no",
        customer.birthday.isoformat() if customer.birthday else "",
        customer.anniversary.isoformat() if customer.anniversary else "",
        iso(customer.created_at) or "",
        _cell(customer.alerts),
        _cell(customer.pronunciation),
    ]


def _cell(text: str) -> str:
    # OWASP "CSV injection": a cell starting with = + - @ runs as a formula in Excel.
    return "'" + text if text.startswith(_FORMULA_START) else text


def _uncell(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:].startswith(_FORMULA_START) else text


# Reading the file ---------------------------------------------------------------------------


def _records(source: str | bytes | Iterable[str], result: ImportResult) -> Iterator[Any]:
    """Yield ``(line, cells)`` for each non-blank record, ``line`` being where it starts."""
    if isinstance(source, bytes):
        source = _decode(source, result)
    lines = iter(io.StringIO(source, newline="") if isinstance(source, str) else source)
    first = next(lines, "").lstrip("\ufeff")
    skipped = 0
    if re.fullmatch(r"sep=.\r?\n?", first, re.IGNORECASE):  # Excel's delimiter hint
        delimiter, skipped = first[4], 1
        first = next(lines, "")
    else:
        delimiter = _sniff(first)
    feed = _Lines(chain([first], lines))
    line = 1 + skipped
    width = 0  # the header's cells, once read
    while True:
        feed.taken = []
        try:
            cells: list[str] | _Unreadable = next(csv.reader(feed, delimiter=delimiter))
        except StopIteration:
            return
        except csv.Error:  # the file ended inside a quoted field, or one grew past the limit
            cells = _Unreadable()
        if len(feed.taken) > 1 and not isinstance(cells, _Unreadable):
            cells = _quoted_across_lines(feed.taken, delimiter, cells, width)
        if isinstance(cells, _Unreadable):
            # Report this line alone and read on from the next: one stray quote must not take
            # every later row with it.
            yield line, cells
            feed.give_back(feed.taken[1:])
            line += 1
            continue
        if any(cell.strip() for cell in cells):
            width = width or len(cells)
            yield line, cells
        line += len(feed.taken)


class _Unreadable:
    """A record that starts with a quote which never closes where a field ends."""

    reason = (
        'a stray quote (") opens a field that does not close on this line or on a later one; '
        "remove it, or double it to keep it as text"
    )


class _Lines:
    """The file's physical lines, counting those the current record ``taken``, and taking back
    those a rejected record read too far."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._source = iter(lines)
        self._back: list[str] = []
        self.taken: list[str] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        text = self._back.pop() if self._back else next(self._source)
        self.taken.append(text)
        return text

    def give_back(self, lines: list[str]) -> None:
        self._back.extend(reversed(lines))


def _quoted_across_lines(
    taken: list[str], delimiter: str, cells: list[str], width: int
) -> list[str] | _Unreadable:
    """``cells`` of a record a quoted field carried over several lines, when that is what it
    is: a note written on three lines. A stray quote reads like one too, but then either the
    quote closes in the middle of a field (strict reading fails) or the lines in between are
    whole rows of their own (as many cells as the header has, or more)."""
    try:
        next(csv.reader(["".join(taken)], delimiter=delimiter, strict=True))
    except csv.Error:
        return _Unreadable()
    for inner in taken[1:-1]:
        if width > 1 and len(next(csv.reader([inner], delimiter=delimiter))) >= width:
            return _Unreadable()
    return cells


def _decode(data: bytes, result: ImportResult) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        result.warnings.append("the file is not UTF-8; read it as Windows-1252 (Excel's CSV)")
        return data.decode("cp1252", errors="replace")


def _sniff(header_line: str) -> str:
    unquoted = re.sub(r'"[^"]*"', "", header_line)
    counts = {d: unquoted.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _header_key(text: str) -> str:
    return re.sub(r"[\W_\d]+", "", text.casefold())


@dataclass(slots=True)
class _Columns:
    fields: dict[str, int]  # customer field -> cell index
    phones: list[tuple[int, str, str]]  # (cell index, header as written, label)


def _columns(header: list[str], result: ImportResult) -> _Columns:
    columns = _Columns({}, [])
    ignored = []
    for index, title in enumerate(header):
        key = _header_key(title)
        if key in _NUMBER_COLUMNS:
            columns.phones.append((index, title.strip(), _NUMBER_COLUMNS[key]))
        elif key in _COLUMNS and _COLUMNS[key] not in columns.fields:
            columns.fields[_COLUMNS[key]] = index
        elif key in _COLUMNS:
            result.warnings.append(f"column {title.strip()!r} repeats another; ignored it")
        elif key and key not in _UNUSED_COLUMNS:
            ignored.append(title.strip())
    if ignored:
        result.warnings.append("ignored unknown columns: " + ", ".join(ignored))
    has_name = any(f in columns.fields for f in ("name", "first", "last"))
    if not has_name or not columns.phones:
        found = ", ".join(title.strip() for title in header if title.strip()) or "none"
        raise BadCsv(
            "the header needs a name column (or first and last name) and at least one phone "
            f"column (phone, mobile, home, work, ...); found: {found}. "
            f"Example header: {EXAMPLE_HEADER}"
        )
    return columns


# Reading rows -------------------------------------------------------------------------------


@dataclass(slots=True)
class _Row:
    line: int
    name: str
    numbers: dict[str, str]  # E.164 -> label, in the file's order
    values: dict[str, Any]


class _BadValue(ValueError):
    pass


_LIMITS = {
    name: max_length(Customer, name)
    for name in ("name", "salutation", "preferred_name", "email", "tags")
}


def _parse_rows(
    rows: list[tuple[int, list[str] | _Unreadable]],
    reader: _RowReader,
    result: ImportResult,
    report: Callable[[float], None],
) -> list[_Row]:
    result.rows = len(rows)
    parsed = []
    for done, (line, cells) in enumerate(rows, 1):
        try:
            parsed.append(reader.read(line, cells))
        except _BadValue as exc:
            result.bad.append(BadRow(line, str(exc)))
        if done % 1000 == 0:
            report(0.6 * done / len(rows))
    return parsed


class _RowReader:
    """Turns one record's cells into a ``_Row``, or raises ``_BadValue`` saying why not."""

    def __init__(self, columns: _Columns, region: str) -> None:
        self.columns = columns
        self.region = region.upper()
        self.today = date.today()
        self.known: dict[str, str] = {}  # raw text -> E.164: repeated numbers parse once

    def read(self, line: int, cells: list[str] | _Unreadable) -> _Row:
        if isinstance(cells, _Unreadable):
            raise _BadValue(cells.reason)
        cell = dict.fromkeys(_COLUMNS.values(), "")
        for field_name, index in self.columns.fields.items():
            if index < len(cells):
                cell[field_name] = _uncell(cells[index].strip())
        name = _full_name(cell["name"] or " ".join(filter(None, (cell["first"], cell["last"]))))
        phones = self._numbers(cells)
        if not name and not phones:
            raise _BadValue("no name and no phone number")
        values: dict[str, Any] = {f: cell[f] for f in (*_TEXT_FIELDS, *_LONG_FIELDS)}
        values["tags"] = _join_tags(_split_tags(cell["tags"]), limit=None) if cell["tags"] else ""
        for flag in _FLAGS:
            values[flag] = _parse_flag(cell[flag], flag)
        for day in _DATES:
            values[day] = _parse_date_cell(cell[day], day, self.region, self.today)
        for key in _CHECKED_FIELDS:
            try:
                values[key] = customers.checked_text(key, values[key])
            except customers.InvalidCustomer as exc:
                raise _BadValue(str(exc)) from exc
        for key, limit in _LIMITS.items():
            text = name if key == "name" else values[key]
            if len(text) > limit:
                raise _BadValue(f"{key.replace('_', ' ')} is longer than {limit} characters")
        return _Row(line, name, phones, values)

    def _numbers(self, cells: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for index, title, label in self.columns.phones:
            raw_cell = cells[index] if index < len(cells) else ""
            for raw_number in re.split(r"[;,]", raw_cell):
                raw_number = _uncell(raw_number.strip())
                if raw_number:
                    found.setdefault(self._parse(raw_number, title), label)
        return found

    def _parse(self, raw_number: str, title: str) -> str:
        number = self.known.get(raw_number)
        if number is None:
            try:
                number = self.known[raw_number] = numbers.parse(raw_number, self.region)
            except numbers.InvalidNumber as exc:
                hint = (
                    ""
                    if raw_number.startswith(("+", "00"))
                    else f" (read as a {self.region} number)"
                )
                raise _BadValue(f"{title} '{raw_number}' is not a phone number{hint}") from exc
        return number


def _full_name(text: str) -> str:
    text = " ".join(text.split())
    last, comma, first = text.partition(",")
    if comma and first.strip() and last.strip() and "," not in first:
        return f"{first.strip()} {last.strip()}"  # "Moors, Anna" -> "Anna Moors"
    return text


def _parse_flag(text: str, name: str) -> bool:
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise _BadValue(f"{name.removeprefix('is_').replace('_', ' ')} '{text}' is not yes or no")


def _parse_date_cell(text: str, name: str, region: str, today: date) -> date | None:
    if not text:
        return None
    try:
        return parse_date(text, region, today=today)
    except ValueError as exc:
        raise _BadValue(f"{name} '{text}' is not a date (use YYYY-MM-DD)") from exc


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
    month_first = separator != "." and region.upper() in _MONTH_FIRST
    readings = [(int(second), int(first)), (int(first), int(second))]  # (month, day)
    if month_first:
        readings.reverse()
    for month, day in readings:
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise ValueError(text)


def _split_tags(text: str) -> list[str]:
    return [tag.strip() for tag in re.split(r"[,;]", text) if tag.strip()]


def _join_tags(tags: list[str], limit: int | None = _LIMITS["tags"]) -> str:
    """Tags as the model stores them ("a, b"), without repeats (any case), within ``limit``."""
    kept: list[str] = []
    seen: set[str] = set()
    for tag in tags:
        if tag.casefold() in seen:
            continue
        if limit is not None and len(", ".join([*kept, tag])) > limit:
            break
        kept.append(tag)
        seen.add(tag.casefold())
    return ", ".join(kept)


# Matching people ----------------------------------------------------------------------------


def same_person(a: str, b: str) -> bool:
    """Whether two names on the same number can be one person. An empty name fits anyone.

    Compared without case, accents, punctuation or titles (Mrs, Dr, ...): equal names match;
    a single word matches the other name's first or last word ("Anna" or "Moors" and "Anna
    Moors"); otherwise the last words must be equal and the first words must agree, where an
    initial or a start of at least three letters agrees ("A. Moors", "Rob" and "Robert"). Middle
    names are ignored. "Anna Moors" and "James Moors" are two people: a household.
    """
    words_a, words_b = _name_words(a), _name_words(b)
    if not words_a or not words_b or words_a == words_b:
        return True
    if len(words_a) == 1 or len(words_b) == 1:
        single, other = (words_a, words_b) if len(words_a) == 1 else (words_b, words_a)
        return single[0] in (other[0], other[-1])
    return words_a[-1] == words_b[-1] and _first_names_agree(words_a[0], words_b[0])


def _first_names_agree(a: str, b: str) -> bool:
    short, long = sorted((a, b), key=len)
    if len(short) == 1:
        return long.startswith(short)
    return len(short) >= 3 and long.startswith(short)


def _name_words(name: str) -> list[str]:
    plain = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    words = re.findall(r"[^\W\d_]+", plain)
    while len(words) > 1 and words[0] in _TITLES:
        words.pop(0)
    return words


@dataclass(eq=False, slots=True)
class _Entry:
    """A customer as the import sees it: loaded from the database (``id`` set) or new."""

    id: int | None
    values: dict[str, Any]
    is_new: bool
    numbers: dict[str, str] = field(default_factory=dict)  # numbers to insert -> label
    is_seen: bool = False  # an earlier row of the file matched or created it
    is_changed: bool = False


def _display_name(entry: _Entry) -> str:
    return entry.values["name"] or "a customer without a name"


def _customer_values(row: Any) -> dict[str, Any]:
    return {key: getattr(row, key) for key in _MERGED}


class _Plan:
    """Works out, in memory, which customers to create and which to change."""

    def __init__(self, session: Session, result: ImportResult) -> None:
        self.session = session
        self.result = result
        self.owners: dict[str, list[_Entry]] = {}  # E.164 -> customers with that number
        self.numberless: dict[tuple[str, ...], _Entry] = {}  # name words -> customer
        self.entries: list[_Entry] = []  # to write: new customers, then changed ones
        self.existing: list[_Entry] = []

    def load(self, rows: list[_Row]) -> None:
        """Fetch the customers who own any number in the file (and, if some rows have no
        number, those without one): a handful of queries, never one per row."""
        wanted = list({number for row in rows for number in row.numbers})
        owner_ids: dict[str, list[int]] = {}
        for chunk in _chunks(wanted, _CHUNK):
            found = select(PhoneNumber.number, PhoneNumber.customer_id).where(
                PhoneNumber.number.in_(chunk)
            )
            for number, customer_id in self.session.execute(found.order_by(PhoneNumber.id)):
                owner_ids.setdefault(number, []).append(customer_id)
        ids = sorted({i for owners in owner_ids.values() for i in owners})
        loaded: dict[int, _Entry] = {}
        columns = [getattr(Customer, key) for key in ("id", *_MERGED)]
        for chunk in _chunks(ids, _CHUNK):
            for row in self.session.execute(select(*columns).where(Customer.id.in_(chunk))):
                loaded[row.id] = self._existing(row)
        for number, customer_ids in owner_ids.items():
            self.owners[number] = [loaded[i] for i in sorted(customer_ids)]  # oldest first
        if any(not row.numbers for row in rows):
            self._load_numberless()

    def _load_numberless(self) -> None:
        has_number = exists().where(PhoneNumber.customer_id == Customer.id)
        columns = [getattr(Customer, key) for key in ("id", *_MERGED)]
        query = select(*columns).where(~has_number, Customer.name != "").order_by(Customer.id)
        for row in self.session.execute(query):
            self.numberless.setdefault(tuple(_name_words(row.name)), self._existing(row))

    def _existing(self, row: Any) -> _Entry:
        entry = _Entry(row.id, _customer_values(row), is_new=False)
        self.existing.append(entry)
        return entry

    def add(self, row: _Row) -> None:
        try:
            entry = self._match(row)
        except _BadValue as exc:
            self.result.bad.append(BadRow(row.line, str(exc)))
            return
        if entry is None:
            self._create(row)
        else:
            self._merge(entry, row)

    def _match(self, row: _Row) -> _Entry | None:
        if not row.numbers:
            return self.numberless.get(tuple(_name_words(row.name)))
        candidates: list[_Entry] = []
        for number in row.numbers:
            candidates += [e for e in self.owners.get(number, ()) if e not in candidates]
        if not row.name:
            if len(candidates) > 1:
                names = " and ".join(_display_name(e) for e in candidates[:3])
                raise _BadValue(f"no name, and its number belongs to {names}; add a name")
            return candidates[0] if candidates else None
        return next((e for e in candidates if same_person(e.values["name"], row.name)), None)

    def _create(self, row: _Row) -> None:
        entry = _Entry(None, {"name": row.name, **row.values}, is_new=True, is_seen=True)
        self.entries.append(entry)
        if not row.numbers:
            self.numberless.setdefault(tuple(_name_words(row.name)), entry)
        for number, label in row.numbers.items():
            self._give_number(entry, number, label, row.line)

    def _merge(self, entry: _Entry, row: _Row) -> None:
        changed = _merge_values(entry.values, row)
        for number, label in row.numbers.items():
            if entry not in self.owners.get(number, ()):
                self._give_number(entry, number, label, row.line)
                changed = True
                if not entry.is_new:
                    self.result.numbers_added += 1
        if entry.is_seen:
            self.result.merged += 1
        entry.is_seen = True
        if changed and not entry.is_new and not entry.is_changed:
            entry.is_changed = True
            self.entries.append(entry)

    def _give_number(self, entry: _Entry, number: str, label: str, line: int) -> None:
        owners = self.owners.setdefault(number, [])
        if owners:
            names = [_display_name(e) for e in (*owners, entry)]
            self.result.shared.append(
                f"line {line}: {number} is shared by {', '.join(names[:-1])} and {names[-1]}"
            )
        owners.append(entry)
        entry.numbers[number] = label

    def count(self) -> None:
        self.result.created = sum(1 for e in self.entries if e.is_new)
        self.result.updated = sum(1 for e in self.existing if e.is_changed)
        self.result.unchanged = sum(1 for e in self.existing if e.is_seen and not e.is_changed)

    def write(self, report: Callable[[float], None]) -> None:
        """Bulk INSERTs for new customers and numbers, a bulk UPDATE for changed customers.

        Core statements with uniform rows: the ORM's bulk paths split rows into small batches
        whenever a value turns None, which made 100,000 rows twenty times slower."""
        now = utcnow()
        new = [e for e in self.entries if e.is_new]
        changed = [e for e in self.entries if e.is_changed]
        total = max(1, len(new) + len(changed))
        for done, chunk in enumerate(_chunks(new, _CHUNK)):
            rows = [{**_keyed(e.values), "created_at": now, "updated_at": now} for e in chunk]
            for entry, customer_id in zip(chunk, self._insert_customers(rows), strict=True):
                entry.id = customer_id
            self._insert_numbers(chunk, now)
            report(min(1.0, (done + 1) * _CHUNK / total))
        customers = table_of(Customer)
        changes = update(customers).where(customers.c.id == bindparam("customer_id"))
        for chunk in _chunks(changed, _CHUNK):
            rows = [{"customer_id": e.id, **_keyed(e.values), "updated_at": now} for e in chunk]
            self.session.execute(changes, rows)
            self._insert_numbers(chunk, now)
        report(1.0)

    def _insert_customers(self, rows: list[dict[str, Any]]) -> list[int]:
        # Ids first, then a plain bulk INSERT: batched INSERT ... RETURNING in parameter order
        # runs one statement per row on SQLite and is ~4x slower on PostgreSQL.
        ids = self._next_ids(len(rows))
        self._insert(table_of(Customer), [{"id": i, **r} for i, r in zip(ids, rows, strict=True)])
        return ids

    def _next_ids(self, count: int) -> list[int]:
        if self.session.get_bind().dialect.name == "postgresql":
            return list(self.session.scalars(_NEXT_CUSTOMER_IDS, {"count": count}))
        # SQLite has one writer at a time; should another slip in between this read and our
        # first INSERT, the INSERT fails on the primary key and nothing is written.
        last = self.session.scalar(select(func.coalesce(func.max(Customer.id), 0))) or 0
        return list(range(last + 1, last + 1 + count))

    def _insert_numbers(self, entries: list[_Entry], now: datetime) -> None:
        rows = [
            {"customer_id": e.id, "number": number, "label": label, "created_at": now}
            for e in entries
            for number, label in e.numbers.items()
        ]
        self._insert(table_of(PhoneNumber), rows)

    def _insert(self, table: Table, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        dialect = self.session.get_bind().dialect
        if (dialect.name, dialect.driver) != ("postgresql", "psycopg"):
            self.session.execute(insert(table), rows)
            return
        # COPY is ~5x faster than executemany on psycopg 3; same connection, same transaction.
        columns = list(rows[0])
        raw = self.session.connection().connection.driver_connection
        if raw is None:  # None only once the connection was invalidated or closed
            raise RuntimeError("the import's database connection was closed")
        command = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"  # our names only
        with raw.cursor() as cursor, cursor.copy(command) as copy:
            for row in rows:
                copy.write_row([row[column] for column in columns])


def _keyed(values: dict[str, Any]) -> dict[str, Any]:
    # Bulk statements skip the ORM's hook that keeps the search key: set it the same way.
    key = customers.search_key(values["name"], values["preferred_name"], values["email"])
    return {**values, "search_key": key}


def _merge_values(values: dict[str, Any], row: _Row) -> bool:
    """Fold ``row`` into ``values`` (fill empty, append text, add tags, turn flags on); return
    whether anything changed."""
    before = dict(values)
    if not values["name"]:
        values["name"] = row.name
    for key in (*_TEXT_FIELDS, *_DATES):
        if not values[key] and row.values[key]:
            values[key] = row.values[key]
    for key in _LONG_FIELDS:
        new, old = row.values[key], values[key] or ""
        if new and new not in old:
            values[key] = f"{old}\n{new}" if old else new
    values["tags"] = _join_tags(_split_tags(values["tags"]) + _split_tags(row.values["tags"]))
    for key in _FLAGS:
        values[key] = bool(values[key]) or row.values[key]
    return values != before


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
