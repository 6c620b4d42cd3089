"""Merging the rows of a CSV file with the customers already known, by number and name, in
memory: what to create and what to change (``csvwrite`` writes it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from ..models import Customer, PhoneNumber
from . import record
from .csvread import BadRow, ImportResult
from .csvrows import APPENDED_FIELDS, DATES, FILLED_FIELDS, FLAGS, MERGED, BadValue, Row
from .csvwrite import CHUNK, Entry, chunks
from .names import name_words, same_person


def _display_name(entry: Entry) -> str:
    return entry.values["name"] or "a customer without a name"


def _customer_values(row: Any) -> dict[str, Any]:
    return {key: getattr(row, key) for key in MERGED}


class Plan:
    """Works out, in memory, which customers to create and which to change."""

    def __init__(self, session: Session, result: ImportResult) -> None:
        self.session = session
        self.result = result
        self.owners: dict[str, list[Entry]] = {}  # E.164 -> customers with that number
        self.numberless: dict[tuple[str, ...], Entry] = {}  # name words -> customer
        self.entries: list[Entry] = []  # to write: new customers, then changed ones
        self.existing: list[Entry] = []

    def load(self, rows: list[Row]) -> None:
        """Fetch the customers who own any number in the file (and, if some rows have no
        number, those without one): a handful of queries, never one per row."""
        wanted = list({number for row in rows for number in row.numbers})
        owner_ids: dict[str, list[int]] = {}
        for chunk in chunks(wanted, CHUNK):
            found = select(PhoneNumber.number, PhoneNumber.customer_id).where(
                PhoneNumber.number.in_(chunk)
            )
            for number, customer_id in self.session.execute(found.order_by(PhoneNumber.id)):
                owner_ids.setdefault(number, []).append(customer_id)
        ids = sorted({i for owners in owner_ids.values() for i in owners})
        loaded: dict[int, Entry] = {}
        columns = [getattr(Customer, key) for key in ("id", *MERGED)]
        for chunk in chunks(ids, CHUNK):
            for row in self.session.execute(select(*columns).where(Customer.id.in_(chunk))):
                loaded[row.id] = self._existing(row)
        for number, customer_ids in owner_ids.items():
            self.owners[number] = [loaded[i] for i in sorted(customer_ids)]  # oldest first
        if any(not row.numbers for row in rows):
            self._load_numberless()

    def _load_numberless(self) -> None:
        has_number = exists().where(PhoneNumber.customer_id == Customer.id)
        columns = [getattr(Customer, key) for key in ("id", *MERGED)]
        query = select(*columns).where(~has_number, Customer.name != "").order_by(Customer.id)
        for row in self.session.execute(query):
            self.numberless.setdefault(tuple(name_words(row.name)), self._existing(row))

    def _existing(self, row: Any) -> Entry:
        entry = Entry(row.id, _customer_values(row), is_new=False)
        self.existing.append(entry)
        return entry

    def add(self, row: Row) -> None:
        try:
            entry = self._match(row)
        except BadValue as exc:
            self.result.bad.append(BadRow(row.line, str(exc)))
            return
        if entry is None:
            self._create(row)
        else:
            self._merge(entry, row)

    def _match(self, row: Row) -> Entry | None:
        if not row.numbers:
            return self.numberless.get(tuple(name_words(row.name)))
        candidates: list[Entry] = []
        for number in row.numbers:
            candidates += [e for e in self.owners.get(number, ()) if e not in candidates]
        if not row.name:
            if len(candidates) > 1:
                names = " and ".join(_display_name(e) for e in candidates[:3])
                raise BadValue(f"no name, and its number belongs to {names}; add a name")
            return candidates[0] if candidates else None
        return next((e for e in candidates if same_person(e.values["name"], row.name)), None)

    def _create(self, row: Row) -> None:
        entry = Entry(None, {"name": row.name, **row.values}, is_new=True, is_seen=True)
        self.entries.append(entry)
        if not row.numbers:
            self.numberless.setdefault(tuple(name_words(row.name)), entry)
        for number, label in row.numbers.items():
            self._give_number(entry, number, label, row.line)

    def _merge(self, entry: Entry, row: Row) -> None:
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

    def _give_number(self, entry: Entry, number: str, label: str, line: int) -> None:
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


def _merge_values(values: dict[str, Any], row: Row) -> bool:
    """Fold ``row`` into ``values`` (fill empty, append text, add tags, turn flags on); return
    whether anything changed."""
    before = dict(values)
    if not values["name"]:
        values["name"] = row.name
    for key in (*FILLED_FIELDS, *DATES):
        if not values[key] and row.values[key]:
            values[key] = row.values[key]
    for key in APPENDED_FIELDS:
        new, old = row.values[key], values[key] or ""
        if new and new not in old:
            values[key] = f"{old}\n{new}" if old else new
    values["tags"] = record.join_tags(
        record.split_tags(values["tags"]) + record.split_tags(row.values["tags"])
    )
    for key in FLAGS:
        values[key] = bool(values[key]) or row.values[key]
    return values != before
