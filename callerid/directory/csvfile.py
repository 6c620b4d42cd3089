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

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..csvcells import escaped
from ..db import iso
from ..models import Customer, PhoneNumber
from . import csvwrite, record
from .csvmerge import Plan
from .csvread import EXAMPLE_HEADER, BadCsv, BadRow, ImportResult, Unreadable, columns_of, records
from .csvrows import MERGED, RowReader, parse_rows
from .names import same_person
from .record import parse_date

# What other modules and scripts import from here; the pieces live in csvread, csvrows,
# csvmerge and csvwrite.
__all__ = [
    "EXAMPLE_HEADER",
    "EXPORT_HEADER",
    "BadCsv",
    "BadRow",
    "ImportResult",
    "export_customers",
    "import_customers",
    "parse_date",
    "same_person",
]

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
    "do_not_contact",
]
_EXPORTED = ("id", *MERGED, "created_at")


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
    (``,`` or ``;`` separated), ``vip``, ``do not greet`` and ``do not contact``
    (yes/no/true/false/1/0/y/n/x, empty is no), ``birthday`` and ``anniversary`` (see
    ``parse_date``). ``Last, First`` names are turned round. Other columns are ignored, with one
    warning. Every value is checked by the directory's one validator (``record``).

    A row is bad when a number, date or yes/no cell cannot be read, a value is too long, it has
    neither name nor number, or it has no name and its number belongs to several customers; a
    line whose stray quote opens a field that never closes where a field ends is bad on its own,
    and reading goes on at the next line.

    Merging, by number: a row whose number belongs to a customer (in the database, or created by
    an earlier row) with a compatible name (see ``same_person``) updates that customer: empty
    fields are filled, never overwritten; notes and preferences are appended unless already
    there; tags are added; vip, do-not-greet and do-not-contact turn on, never off; new numbers
    are added. A row with no name updates the number's only owner. A row with a different
    person's name on a known number creates a new customer who shares that number (a household
    on one landline). A row without numbers matches a customer of the same name who has no
    number either.

    Nothing is written on a dry run, nor, unless ``skip_bad``, when any row is bad; otherwise all
    good rows are written with bulk statements in the session's transaction: the caller commits
    or rolls back. ``progress`` is called now and then with the fraction done (0 to 1). Raises
    ``BadCsv`` for an empty file or a header without a name or a number column.
    """
    report = progress or (lambda _fraction: None)
    result = ImportResult()
    found = records(source, result.warnings)
    header_line, header = next(found, (1, None))
    if header is None:
        raise BadCsv(f"the file is empty; it needs a header row such as: {EXAMPLE_HEADER}")
    if isinstance(header, Unreadable):
        raise BadCsv(f"the header row (line {header_line}) cannot be read: {header.reason}")
    columns = columns_of(header, result.warnings)
    rows = list(found)
    parsed = parse_rows(rows, RowReader(columns, region), result, report)
    plan = Plan(session, result)
    plan.load(parsed)
    report(0.65)
    for row in parsed:
        plan.add(row)
    plan.count()
    result.bad.sort(key=lambda bad: bad.line)
    report(0.7)
    if not dry_run and (skip_bad or not result.bad):
        csvwrite.write(session, plan.entries, lambda fraction: report(0.7 + 0.3 * fraction))
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
    own = {"id": str(customer.id), "phone": "; ".join(phones)}
    own["created_at"] = iso(customer.created_at) or ""
    yield [own[column] if column in own else _cell(column, customer) for column in EXPORT_HEADER]


def _cell(key: str, customer: Any) -> str:
    # Each field as the import reads it back (record.flag_word, record.spreadsheet_date).
    field = record.BY_KEY[key]
    value = getattr(customer, field.column)
    if field.kind == "flag":
        return "yes" if value else "no"
    if field.kind == "date":
        return value.isoformat() if value else ""
    return escaped(value)
