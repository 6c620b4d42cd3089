"""Reading a customers CSV file: its encoding, delimiter and header, and its records by
physical line, a stray quote costing only its own line; and what an import reports."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

# Normalised header (see _header_key) -> customer field. "first"/"last" are joined into name.
COLUMNS = {
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
    **dict.fromkeys(("donotcontact", "dontcontact", "nocontact"), "do_not_contact"),
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
EXAMPLE_HEADER = "name,phone,mobile,email,notes,vip,tags,birthday"


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


def records(source: str | bytes | Iterable[str], warnings: list[str]) -> Iterator[Any]:
    """Yield ``(line, cells)`` for each non-blank record, ``line`` being where it starts."""
    if isinstance(source, bytes):
        source = _decode(source, warnings)
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
            cells: list[str] | Unreadable = next(csv.reader(feed, delimiter=delimiter))
        except StopIteration:
            return
        except csv.Error:  # the file ended inside a quoted field, or one grew past the limit
            cells = Unreadable()
        if len(feed.taken) > 1 and not isinstance(cells, Unreadable):
            cells = _quoted_across_lines(feed.taken, delimiter, cells, width)
        if isinstance(cells, Unreadable):
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


class Unreadable:
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
) -> list[str] | Unreadable:
    """``cells`` of a record a quoted field carried over several lines, when that is what it
    is: a note written on three lines. A stray quote reads like one too, but then either the
    quote closes in the middle of a field (strict reading fails) or the lines in between are
    whole rows of their own (as many cells as the header has, or more)."""
    try:
        next(csv.reader(["".join(taken)], delimiter=delimiter, strict=True))
    except csv.Error:
        return Unreadable()
    for inner in taken[1:-1]:
        if width > 1 and len(next(csv.reader([inner], delimiter=delimiter))) >= width:
            return Unreadable()
    return cells


def _decode(data: bytes, warnings: list[str]) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        warnings.append("the file is not UTF-8; read it as Windows-1252 (Excel's CSV)")
        return data.decode("cp1252", errors="replace")


def _sniff(header_line: str) -> str:
    unquoted = re.sub(r'"[^"]*"', "", header_line)
    counts = {d: unquoted.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _header_key(text: str) -> str:
    return re.sub(r"[\W_\d]+", "", text.casefold())


@dataclass(slots=True)
class Columns:
    fields: dict[str, int]  # customer field -> cell index
    phones: list[tuple[int, str, str]]  # (cell index, header as written, label)


def columns_of(header: list[str], warnings: list[str]) -> Columns:
    columns = Columns({}, [])
    ignored = []
    for index, title in enumerate(header):
        key = _header_key(title)
        if key in _NUMBER_COLUMNS:
            columns.phones.append((index, title.strip(), _NUMBER_COLUMNS[key]))
        elif key in COLUMNS and COLUMNS[key] not in columns.fields:
            columns.fields[COLUMNS[key]] = index
        elif key in COLUMNS:
            warnings.append(f"column {title.strip()!r} repeats another; ignored it")
        elif key and key not in _UNUSED_COLUMNS:
            ignored.append(title.strip())
    if ignored:
        warnings.append("ignored unknown columns: " + ", ".join(ignored))
    has_name = any(f in columns.fields for f in ("name", "first", "last"))
    if not has_name or not columns.phones:
        found = ", ".join(title.strip() for title in header if title.strip()) or "none"
        raise BadCsv(
            "the header needs a name column (or first and last name) and at least one phone "
            f"column (phone, mobile, home, work, ...); found: {found}. "
            f"Example header: {EXAMPLE_HEADER}"
        )
    return columns
