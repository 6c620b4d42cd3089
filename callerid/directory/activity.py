"""What a customer did: how often and when they called, their latest calls, and the notes
written on those calls or about them (one query each, for the API, the pages and the board)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ..models import Call, Note

TIMELINE_CALLS = 20


def call_stats(session: Session, customer_ids: list[int]) -> dict[int, tuple[int, datetime]]:
    """How many calls each of these customers made and when the last one came."""
    if not customer_ids:
        return {}
    rows = session.execute(
        select(Call.customer_id, func.count(), func.max(Call.received_at))
        .where(Call.customer_id.in_(customer_ids))
        .group_by(Call.customer_id)
    )
    return {customer_id: (count, last) for customer_id, count, last in rows}


def timeline(session: Session, customer_id: int, limit: int = TIMELINE_CALLS) -> list[Call]:
    """The customer's latest ``limit`` calls, newest first, with their lines loaded."""
    return list(
        session.scalars(
            select(Call)
            .options(selectinload(Call.line), selectinload(Call.customer))
            .where(Call.customer_id == customer_id)
            .order_by(Call.received_at.desc(), Call.id.desc())
            .limit(limit)
        )
    )


def notes_on(session: Session, call_ids: list[int]) -> dict[int, list[Note]]:
    """The notes written on each of these calls, oldest first, authors loaded."""
    found: dict[int, list[Note]] = {}
    if call_ids:
        rows = session.scalars(
            select(Note)
            .options(selectinload(Note.author))
            .where(Note.call_id.in_(call_ids))
            .order_by(Note.id)
        )
        for note in rows:
            found.setdefault(note.call_id or 0, []).append(note)
    return found


def notes_about(session: Session, customer_id: int, limit: int = 50) -> list[Note]:
    """The latest ``limit`` notes about the customer that were not written on a call, newest
    first, authors loaded."""
    return list(
        session.scalars(
            select(Note)
            .options(selectinload(Note.author))
            .where(Note.customer_id == customer_id, Note.call_id.is_(None))
            .order_by(Note.id.desc())
            .limit(limit)
        )
    )
