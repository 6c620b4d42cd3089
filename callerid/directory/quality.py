"""Data quality: records that are probably one person, numbers a household shares, and stored
numbers that are not E.164, each with the one change that fixes it (``quality_fixes``).

Built for a million customers: the grouping and the shape check run in SQL on the numbers' index,
each section is cut to a page, and Python only looks at the rows it shows.

One module of some 380 lines because each section's report and its one fix share their
definitions (a household's label, what a stored number that is not E.164 is, who is stale).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import (
    ColumnElement,
    Select,
    SQLColumnExpression,
    TextClause,
    and_,
    func,
    not_,
    select,
    text,
)
from sqlalchemy.orm import Session, aliased

from .. import numbers
from ..models import NOT_E164_POSTGRESQL, NOT_E164_SQLITE, Customer, PhoneNumber
from .activity import call_stats
from .names import name_words, same_person

LIMIT = 100  # rows per section
SCAN = 2000  # shared numbers looked at per report, at most
BATCH = 500
# Marks a number whose owners a manager confirmed as different people; stored in the label.
HOUSEHOLD = "household"
# Two spellings of one word closer than this count as a typo ("Jon"/"John", "Moore"/"Moors").
TYPO_RATIO = 0.8


@dataclass(frozen=True, slots=True)
class Owner:
    customer_id: int
    phone_id: int
    name: str
    calls: int
    label: str


@dataclass(frozen=True, slots=True)
class Duplicate:
    """Records on one number that are probably one person: merge ``others`` into ``survivor``."""

    number: str
    survivor: Owner
    others: list[Owner]
    reason: str
    # Owners of the same number who look like different people (a household around them).
    rest: list[Owner] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Household:
    number: str
    owners: list[Owner]


@dataclass(frozen=True, slots=True)
class BadNumber:
    phone_id: int
    customer_id: int
    name: str
    stored: str
    # The E.164 it becomes when read in the default region, or None when it cannot be read.
    proposal: str | None
    problem: str


@dataclass(frozen=True, slots=True)
class Report:
    duplicates: list[Duplicate]
    households: list[Household]
    shared_total: int  # numbers with several owners, not all marked as a household
    shared_checked: int  # of those, how many this report compared names for
    bad_numbers: list[BadNumber]
    bad_total: int

    @property
    def shared_unchecked(self) -> int:
        return self.shared_total - self.shared_checked


def report(session: Session, region: str, limit: int = LIMIT, scan: int = SCAN) -> Report:
    """The three sections, each at most ``limit`` long. Shared numbers are compared in number
    order, ``scan`` at most; fixing the first ones brings the next into view."""
    duplicates, households, checked, shared = shared_numbers(session, limit, scan)
    bad, bad_total = unnormalised(session, region, limit)
    return Report(duplicates, households, shared, checked, bad, bad_total)


# Names ----------------------------------------------------------------------------------------


def likely_same(a: str, b: str) -> str | None:
    """Why two names on one number are probably one person, or None when they look like two
    ("Anna Moors" and "James Moors"). Case, accents, punctuation, titles and word order do not
    count; an initial or a short form fits the first name ("A. Moors", "Rob Stone"), and one
    small typo per word is forgiven ("Jon"/"John"). A record without a name fits anyone."""
    words_a, words_b = name_words(a), name_words(b)
    if not words_a or not words_b:
        return "one record has no name"
    if words_a == words_b:
        return "same name, written differently"
    if sorted(words_a) == sorted(words_b):
        return "same name, words in another order"
    if same_person(a, b):
        if len(words_a) == 1 or len(words_b) == 1:
            return "one record has only part of the name"
        return "an initial or short form of the first name"
    if len(words_a) == len(words_b) and all(map(_close, sorted(words_a), sorted(words_b))):
        return "a small spelling difference"
    if len(words_a) == len(words_b) and all(map(_close, words_a, words_b)):
        return "a small spelling difference"
    return None


def _close(a: str, b: str) -> bool:
    if a == b:
        return True
    return min(len(a), len(b)) >= 3 and difflib.SequenceMatcher(None, a, b).ratio() >= TYPO_RATIO


# Shared numbers -------------------------------------------------------------------------------


def _is_household(label: SQLColumnExpression[str]) -> ColumnElement[bool]:
    return func.lower(label).contains(HOUSEHOLD)


def _unreviewed_groups() -> Select[tuple[str]]:
    """Numbers with several owners, unless every owner's row is marked as a household. The
    grouping reads only the numbers' index; labels are looked at for shared numbers alone."""
    row = aliased(PhoneNumber)
    unmarked = (
        select(row.id)
        .where(row.number == PhoneNumber.number, not_(_is_household(row.label)))
        .exists()
    )
    return (
        select(PhoneNumber.number)
        .group_by(PhoneNumber.number)
        .having(and_(func.count() > 1, unmarked))
    )


def shared_numbers(
    session: Session, limit: int = LIMIT, scan: int = SCAN
) -> tuple[list[Duplicate], list[Household], int, int]:
    """Likely duplicates and households among the first ``scan`` shared numbers (in number
    order), each list at most ``limit`` long; how many numbers were compared; and how many
    numbers are shared in all (not counting those marked as a household). A number with a
    likely duplicate is listed only there, until merged."""
    # One pass over the numbers' index: the first ``scan`` groups, and all of them counted.
    groups = _unreviewed_groups().subquery()
    found = session.execute(
        select(groups.c.number, func.count().over()).order_by(groups.c.number).limit(scan)
    ).all()
    total = found[0][1] if found else 0
    shared = [number for number, _ in found]
    duplicates: list[Duplicate] = []
    households: list[Household] = []
    checked = 0
    while checked < len(shared) and (len(duplicates) < limit or len(households) < limit):
        batch = shared[checked : checked + BATCH]
        for number, owners in _owners_of(session, batch).items():
            found_here = _duplicates(number, owners)
            if found_here:
                duplicates.extend(found_here)
            else:
                households.append(Household(number, owners))
        checked += len(batch)
    return duplicates[:limit], households[:limit], checked, total


def _owners_of(session: Session, shared: Sequence[str]) -> dict[str, list[Owner]]:
    rows = session.execute(
        select(PhoneNumber.number, PhoneNumber.id, PhoneNumber.label, Customer.id, Customer.name)
        .join(Customer, Customer.id == PhoneNumber.customer_id)
        .where(PhoneNumber.number.in_(shared))
        .order_by(PhoneNumber.number, Customer.id)
    ).all()
    calls = call_stats(session, sorted({row[3] for row in rows}))
    grouped: dict[str, list[Owner]] = {number: [] for number in shared}
    for number, phone_id, label, customer_id, name in rows:
        count = calls.get(customer_id, (0, None))[0]
        grouped[number].append(Owner(customer_id, phone_id, name, count, label))
    return grouped


def _duplicates(number: str, owners: list[Owner]) -> list[Duplicate]:
    """Groups of owners who are probably one person, each with the record that should stay."""
    groups: list[list[Owner]] = []
    reasons: list[str] = []
    for owner in owners:
        for index, group in enumerate(groups):
            reason = next(filter(None, (likely_same(owner.name, o.name) for o in group)), None)
            if reason:
                group.append(owner)
                reasons[index] = reasons[index] or reason
                break
        else:
            groups.append([owner])
            reasons.append("")
    found = []
    for group, reason in zip(groups, reasons, strict=True):
        if len(group) < 2:
            continue
        survivor = max(group, key=_keeps)
        rest = [o for o in owners if o not in group]
        found.append(
            Duplicate(number, survivor, [o for o in group if o is not survivor], reason, rest)
        )
    return found


def _keeps(owner: Owner) -> tuple[bool, int, int, int]:
    # The record to keep: the one with a name, then the most calls, the fuller name, the oldest.
    return (bool(owner.name.strip()), owner.calls, len(owner.name), -owner.customer_id)


# Numbers that are not E.164 -------------------------------------------------------------------


def _not_e164(session: Session) -> TextClause:
    """Rows whose number is not shaped like E.164, tested as the partial index
    ``ix_phone_numbers_not_e164`` tests it, so the engine reads that small index alone."""
    if session.get_bind().dialect.name == "postgresql":
        return text(NOT_E164_POSTGRESQL)
    return text(NOT_E164_SQLITE)


def unnormalised(session: Session, region: str, limit: int = LIMIT) -> tuple[list[BadNumber], int]:
    """Stored numbers that are not E.164 (legacy imports, raw SQL), oldest first, at most
    ``limit``, each with what it becomes when read in ``region``; and how many there are."""
    # One pass over the numbers' index finds the page and, by the window, the total.
    found = (
        select(
            PhoneNumber.id,
            PhoneNumber.number,
            PhoneNumber.customer_id,
            func.count().over().label("total"),
        )
        .where(_not_e164(session))
        .order_by(PhoneNumber.id)
        .limit(limit)
        .subquery()
    )
    rows = session.execute(
        select(found.c.id, found.c.number, Customer.id, Customer.name, found.c.total)
        .join(Customer, Customer.id == found.c.customer_id)
        .order_by(found.c.id)
    ).all()
    total = rows[0].total if rows else 0
    return [
        _bad_number(phone_id, stored, customer_id, name, region)
        for phone_id, stored, customer_id, name, _ in rows
    ], total


def _bad_number(phone_id: int, stored: str, customer_id: int, name: str, region: str) -> BadNumber:
    try:
        return BadNumber(phone_id, customer_id, name, stored, numbers.parse(stored, region), "")
    except numbers.InvalidNumber as error:
        return BadNumber(phone_id, customer_id, name, stored, None, error.reason)
