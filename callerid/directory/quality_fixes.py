"""The fixes the data-quality page offers, one per finding: merge records that are one person,
mark a shared number as a household's, remove a number, or store it in E.164. Each checks that
the page was not out of date (``Stale``) and is written to the audit trail."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit, numbers
from ..models import PhoneNumber
from .merge import merge
from .quality import HOUSEHOLD
from .record import LABEL_LENGTH

AUDIT_HOUSEHOLD = "number.household"
AUDIT_REMOVE = "number.remove"
AUDIT_NORMALISE = "number.normalise"


class Stale(LookupError):
    """The page was out of date: the number or customer it showed has changed since."""


def merge_duplicates(
    session: Session,
    number: str,
    survivor_id: int,
    other_ids: Iterable[int],
    *,
    actor: str,
    user_id: int | None = None,
) -> int:
    """Merge each of ``other_ids`` into ``survivor_id`` (``directory.merge``, one audit entry
    each); return how many were merged. Raises ``Stale`` unless all of them still own
    ``number``, and then changes nothing. The caller commits."""
    others = [i for i in dict.fromkeys(other_ids) if i != survivor_id]
    owners = set(
        session.scalars(select(PhoneNumber.customer_id).where(PhoneNumber.number == number))
    )
    if not others or not {survivor_id, *others} <= owners:
        raise Stale("these customers no longer share that number")
    for other in others:
        merge(session, other, survivor_id, actor=actor, user_id=user_id)
    return len(others)


def mark_household(session: Session, number: str, *, actor: str, user_id: int | None = None) -> int:
    """Mark every owner's row of ``number`` as a household, keeping labels ("home" becomes
    "home, household"); return how many owners. Raises ``Stale`` unless it has several owners.
    The caller commits."""
    rows = list(session.scalars(select(PhoneNumber).where(PhoneNumber.number == number)))
    if len(rows) < 2:
        raise Stale("that number no longer has several owners")
    for row in rows:
        if HOUSEHOLD not in row.label.lower():
            kept = row.label[: LABEL_LENGTH - len(HOUSEHOLD) - 2].rstrip()
            row.label = f"{kept}, {HOUSEHOLD}" if kept else HOUSEHOLD
    ids = ", ".join(str(row.customer_id) for row in rows)
    # The trail outlives erasure: customer ids, never the number itself.
    audit.record(
        session,
        AUDIT_HOUSEHOLD,
        f"customers {ids}",
        actor=actor,
        user_id=user_id,
        detail="marked their shared number as a household",
    )
    return len(rows)


def remove_number(
    session: Session, phone_id: int, *, actor: str, user_id: int | None = None
) -> PhoneNumber:
    """Take one number off one customer; return the removed row. Raises ``Stale`` when it is
    gone already. The caller commits."""
    row = session.get(PhoneNumber, phone_id)
    if row is None:
        raise Stale("that number was removed already")
    session.delete(row)
    session.flush()
    audit.record(
        session,
        AUDIT_REMOVE,
        f"customer {row.customer_id}",
        actor=actor,
        user_id=user_id,
        detail=f"removed number {phone_id} from the data-quality page",
    )
    return row


def normalise_number(
    session: Session, phone_id: int, region: str, *, actor: str, user_id: int | None = None
) -> str:
    """Store the number as E.164, reading it in ``region``; return the E.164. A customer who
    already has that number keeps one row. Raises ``numbers.InvalidNumber`` when it cannot be
    read (nothing changes) and ``Stale`` when the row is gone. The caller commits."""
    row = session.get(PhoneNumber, phone_id)
    if row is None:
        raise Stale("that number was changed or removed already")
    number = numbers.parse(row.number, region)
    twin = session.scalar(
        select(PhoneNumber).where(
            PhoneNumber.customer_id == row.customer_id,
            PhoneNumber.number == number,
            PhoneNumber.id != row.id,
        )
    )
    if twin is not None:
        twin.label = twin.label or row.label
        session.delete(row)
    else:
        row.number = number
    session.flush()
    audit.record(
        session,
        AUDIT_NORMALISE,
        f"customer {row.customer_id}",
        actor=actor,
        user_id=user_id,
        detail=f"number {phone_id} stored as E.164" + (" (a copy: removed)" if twin else ""),
    )
    return number
