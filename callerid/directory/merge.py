"""Merging two records of one customer: everything of the merged one moves to the survivor.

Nothing is lost: numbers, calls, notes, texts and call-backs move; the survivor's empty fields
are filled from the merged record; notes and preferences are appended; tags are united; VIP, "do
not greet" and "do not contact" hold if either record said so; a differing name, email or date
the survivor already has a value for is written into the survivor's notes. The merged record is
then deleted.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from .. import audit
from ..db import changed_rows
from ..history import relink
from ..models import Call, Callback, Customer, Note, TextReceived, TextSent
from .customers import get
from .record import FLAGS, TEXT_FIELDS, tags_of

# Fields the survivor takes from the merged record when its own is empty, with how to name them.
FILLED = {
    "name": "name",
    "salutation": "salutation",
    "preferred_name": "preferred name",
    "email": "email",
    "birthday": "birthday",
    "anniversary": "anniversary",
    "pronunciation": "pronunciation",
}


class SelfMerge(ValueError):
    """A customer cannot be merged into itself."""


@dataclass(frozen=True, slots=True)
class Merged:
    survivor: Customer
    merged_id: int
    numbers: int
    calls: int
    notes: int


@dataclass(frozen=True, slots=True)
class Preview:
    """What ``merge`` would do: the merged record's numbers the survivor lacks (they move), those
    both have, and how many calls and notes move."""

    merged: Customer
    survivor: Customer
    moving_numbers: list[str]
    shared_numbers: list[str]
    calls: int
    notes: int


def preview(session: Session, customer_id: int, into_id: int) -> Preview:
    """What merging ``customer_id`` into ``into_id`` would move, changing nothing. Raises as
    ``merge`` does."""
    if customer_id == into_id:
        raise SelfMerge(f"customer {customer_id} cannot be merged into itself")
    merged, survivor = get(session, customer_id), get(session, into_id)
    have = {row.number for row in survivor.numbers}
    own = [row.number for row in merged.numbers]

    def count(model: type[Call] | type[Note]) -> int:
        return (
            session.scalar(
                select(func.count()).select_from(model).where(model.customer_id == customer_id)
            )
            or 0
        )

    return Preview(
        merged,
        survivor,
        moving_numbers=[n for n in own if n not in have],
        shared_numbers=[n for n in own if n in have],
        calls=count(Call),
        notes=count(Note),
    )


def merge(
    session: Session, customer_id: int, into_id: int, *, actor: str, user_id: int | None = None
) -> Merged:
    """Merge customer ``customer_id`` into ``into_id`` (the survivor) and record it in the audit
    trail. Raises ``SelfMerge``, ``UnknownCustomer`` or ``ErasedCustomer`` (for either), and
    changes nothing then. The caller commits."""
    if customer_id == into_id:
        raise SelfMerge(f"customer {customer_id} cannot be merged into itself")
    # Lock both rows, lower id first, so two opposite merges at once wait instead of deadlocking.
    locked = {i: get(session, i, for_update=True) for i in sorted((customer_id, into_id))}
    merged, survivor = locked[customer_id], locked[into_id]
    moved_numbers = _move_numbers(merged, survivor)
    with relink.relinking(session, [merged.id, survivor.id]):  # insights' rolled-up days
        calls = _reassign(session, Call, merged.id, survivor.id)
    notes = _reassign(session, Note, merged.id, survivor.id)
    # Their page lists these by customer: left on the merged record, its deletion would
    # orphan them (SET NULL) and the survivor's page would never show them.
    for model in (TextSent, TextReceived, Callback):
        _reassign(session, model, merged.id, survivor.id)
    _combine(survivor, merged)
    session.delete(merged)
    session.flush()
    audit.record(
        session,
        audit.MERGE,
        f"customer {merged.id}",
        actor=actor,
        user_id=user_id,
        detail=(
            f"into customer {survivor.id}: {moved_numbers} numbers, {calls} calls "
            f"and {notes} notes moved"
        ),
    )
    session.refresh(survivor)
    return Merged(survivor, merged.id, moved_numbers, calls, notes)


def _move_numbers(merged: Customer, survivor: Customer) -> int:
    have = {row.number: row for row in survivor.numbers}
    moved = 0
    for row in list(merged.numbers):
        if row.number in have:
            have[row.number].label = have[row.number].label or row.label
            continue  # deleted with the merged record: the survivor has the number already
        survivor.numbers.append(row)  # the back-reference takes it out of merged.numbers
        moved += 1
    return moved


def _reassign(
    session: Session,
    model: type[Call | Note | TextSent | TextReceived | Callback],
    old: int,
    new: int,
) -> int:
    result = session.execute(
        update(model).where(model.customer_id == old).values(customer_id=new),
        execution_options={"synchronize_session": False},
    )
    return changed_rows(result)


def _combine(survivor: Customer, merged: Customer) -> None:
    aside = []
    for field, label in FILLED.items():
        mine, theirs = getattr(survivor, field), getattr(merged, field)
        if not theirs or theirs == mine:
            continue
        if not mine:
            setattr(survivor, field, theirs)
        else:
            value = theirs.isoformat() if hasattr(theirs, "isoformat") else theirs
            aside.append(f"{label}: {value}")
    alerts = "; ".join(a for a in dict.fromkeys((survivor.alerts, merged.alerts)) if a)
    if len(alerts) <= TEXT_FIELDS["alerts"]:
        survivor.alerts = alerts
    elif merged.alerts:
        # Too long for one band: the merged customer's alert waits in the notes, never lost.
        aside.insert(0, f"alert: {merged.alerts}")
    kept = f"From merged customer {merged.id}: " + "; ".join(aside) if aside else ""
    survivor.notes = _joined(survivor.notes, merged.notes, kept)
    survivor.preferences = _joined(survivor.preferences, merged.preferences)
    survivor.tags = ", ".join(tags_of(survivor.tag_list + merged.tag_list))
    for column in FLAGS.values():  # a yes on either record wins (vip, do not contact, ...)
        setattr(survivor, column, getattr(survivor, column) or getattr(merged, column))
    survivor.created_at = min(survivor.created_at, merged.created_at)


def _joined(*texts: str) -> str:
    """The texts one after the other, a blank line apart, each only once."""
    joined = ""
    for text in (t.strip() for t in texts):
        if text and text not in joined:
            joined = f"{joined}\n\n{text}" if joined else text
    return joined
