"""The audit trail: who exported, erased, merged or anonymised what, and when.

A leaf of the import graph (models and inputs only): the directory, auth, webhooks and the
manager pages all write to it, so it must import none of them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import inputs
from .models import AuditEntry

# The actions this package writes; the trail is free text, so others may add their own.
EXPORT = "export"
ERASE = "erase"
MERGE = "merge"
ANONYMISE = "anonymise"


def record(
    session: Session,
    action: str,
    target: str,
    *,
    actor: str,
    user_id: int | None = None,
    detail: str = "",
) -> AuditEntry:
    """Add an entry to the trail in the caller's transaction, so it is kept exactly when the
    change it describes is. ``detail`` must never hold personal data (the trail outlives erasure):
    ids, counts and filters only. The caller commits."""
    entry = AuditEntry(
        action=action[:40], target=target[:200], actor=actor[:80], user_id=user_id, detail=detail
    )
    session.add(entry)
    session.flush()
    return entry


class BadCursor(ValueError):
    """The pagination cursor was not one we handed out."""


@dataclass(frozen=True, slots=True)
class Page:
    entries: list[AuditEntry]
    next_cursor: str | None


def entries(
    session: Session,
    *,
    limit: int = 50,
    cursor: str | None = None,
    action: str | None = None,
    actor: str | None = None,
) -> Page:
    """The trail, newest first (by id, which grows with every entry), optionally one ``action``
    and one ``actor``. Keyset pagination: the cursor is the id of the last entry of the previous
    page, so entries written meanwhile never repeat a row. Raises ``BadCursor``."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit + 1)
    if action:
        query = query.where(AuditEntry.action == action)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if cursor:
        last_id = inputs.whole_number(cursor)
        if last_id is None:
            raise BadCursor(cursor)
        query = query.where(AuditEntry.id < last_id)
    rows = list(session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, str(rows[-1].id) if more and rows else None)


def filter_choices(session: Session) -> tuple[list[str], list[str]]:
    """The actions and the actors the trail holds, each sorted, to offer as filters."""
    actions = session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action))
    actors = session.scalars(select(AuditEntry.actor).distinct().order_by(AuditEntry.actor))
    return list(actions), [name for name in actors if name]
