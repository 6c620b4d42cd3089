"""Reading one CSV record into a customer's values, by the rules of ``record``: names as people
write them, numbers in the file's region, spreadsheet dates and yes/no cells."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from .. import numbers
from ..csvcells import unescaped
from . import record
from .csvread import COLUMNS, BadRow, Columns, ImportResult, Unreadable

# How a merge treats each field (see csvmerge): text filled in when empty, long text appended
# to, flags turned on (a yes wins), dates filled in when empty.
FILLED_FIELDS = ("salutation", "preferred_name", "email", "alerts", "pronunciation")
APPENDED_FIELDS = ("notes", "preferences")
FLAGS = tuple(record.FLAGS.values())
DATES = record.DATES
MERGED = ("name", *FILLED_FIELDS, *APPENDED_FIELDS, "tags", *FLAGS, *DATES)


@dataclass(slots=True)
class Row:
    line: int
    name: str
    numbers: dict[str, str]  # E.164 -> label, in the file's order
    values: dict[str, Any]


class BadValue(ValueError):
    """A cell that cannot be read or does not fit; the message says which, for the report."""


def parse_rows(
    rows: list[tuple[int, list[str] | Unreadable]],
    reader: RowReader,
    result: ImportResult,
    report: Callable[[float], None],
) -> list[Row]:
    """Each record as a ``Row``; those that cannot be go to ``result.bad`` with their reason."""
    result.rows = len(rows)
    parsed = []
    for done, (line, cells) in enumerate(rows, 1):
        try:
            parsed.append(reader.read(line, cells))
        except BadValue as exc:
            result.bad.append(BadRow(line, str(exc)))
        if done % 1000 == 0:
            report(0.6 * done / len(rows))
    return parsed


class RowReader:
    """Turns one record's cells into a ``Row``, or raises ``BadValue`` saying why not."""

    def __init__(self, columns: Columns, region: str) -> None:
        self.columns = columns
        self.region = region.upper()
        self.today = date.today()
        self.known: dict[str, str] = {}  # raw text -> E.164: repeated numbers parse once

    def read(self, line: int, cells: list[str] | Unreadable) -> Row:
        if isinstance(cells, Unreadable):
            raise BadValue(cells.reason)
        cell = dict.fromkeys(COLUMNS.values(), "")
        for field_name, index in self.columns.fields.items():
            if index < len(cells):
                cell[field_name] = unescaped(cells[index].strip())
        name = _full_name(cell["name"] or " ".join(filter(None, (cell["first"], cell["last"]))))
        phones = self._numbers(cells)
        if not name and not phones:
            raise BadValue("no name and no phone number")
        try:
            return Row(line, record.text("name", name), phones, self._values(cell))
        except record.InvalidCustomer as exc:
            raise BadValue(str(exc)) from exc

    def _values(self, cell: dict[str, str]) -> dict[str, Any]:
        # The one validator's rules for every field; only the spellings are the spreadsheet's.
        values: dict[str, Any] = {key: record.text(key, cell[key]) for key in FILLED_FIELDS}
        values |= {key: record.text(key, cell[key]) for key in APPENDED_FIELDS}
        values["tags"] = ", ".join(record.tags_of(record.split_tags(cell["tags"])))
        for column in FLAGS:
            values[column] = record.flag_word(column, cell[column])
        for key in DATES:
            values[key] = record.spreadsheet_date(key, cell[key], self.region, self.today)
        return values

    def _numbers(self, cells: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for index, title, label in self.columns.phones:
            raw_cell = cells[index] if index < len(cells) else ""
            for raw_number in re.split(r"[;,]", raw_cell):
                raw_number = unescaped(raw_number.strip())
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
                raise BadValue(f"{title} '{raw_number}' is not a phone number{hint}") from exc
        return number


def _full_name(text: str) -> str:
    text = " ".join(text.split())
    last, comma, first = text.partition(",")
    if comma and first.strip() and last.strip() and "," not in first:
        return f"{first.strip()} {last.strip()}"  # "Moors, Anna" -> "Anna Moors"
    return text
