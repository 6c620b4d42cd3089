"""Login throttling without lockout: failed logins counted per (name, client address) and per
client address, in a table every worker and instance shares.

Counting per name alone let anyone lock anyone out, and only real names ever met the limit, which
told who exists (issue 13, finding 5). Here a name is only ever slowed down from the address that
guessed at it, and an unknown name is counted exactly like a real one.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..db import utcnow
from ..models import LoginThrottle


@dataclass(frozen=True, slots=True)
class Limits:
    """How many failed logins a window allows per (name, address) and per address."""

    per_name: int = 5
    per_address: int = 50
    window: timedelta = timedelta(minutes=5)


class Throttled(Exception):
    """Too many failed logins from this address (for this name, or for any); ``retry_after`` is
    how many seconds until the window that counted them closes."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


def check(session: Session, name: str, address: str, limits: Limits) -> None:
    """Raise ``Throttled`` when ``address`` has used up its failed logins, for ``name`` or in all,
    within the window. Checked before any password, so a throttled guess learns nothing."""
    cutoff = utcnow() - limits.window
    rows = session.execute(
        select(LoginThrottle.key, LoginThrottle.failures, LoginThrottle.window_started_at).where(
            LoginThrottle.key.in_(_keys(name, address)),
            LoginThrottle.window_started_at >= cutoff,
        )
    ).all()
    allowed = {_pair_key(name, address): limits.per_name, _address_key(address): limits.per_address}
    spent = [row.window_started_at for row in rows if row.failures >= allowed[row.key]]
    if spent:
        closes = max(spent) + limits.window
        raise Throttled(max(1, math.ceil((closes - utcnow()).total_seconds())))


def failed(session: Session, name: str, address: str, limits: Limits) -> None:
    """Count a failed login of ``name`` from ``address``. The caller commits."""
    now = utcnow()
    cutoff = now - limits.window
    session.execute(delete(LoginThrottle).where(LoginThrottle.window_started_at < cutoff))
    for key in _keys(name, address):
        _count(session, key, _name_key(name) if key.startswith("n:") else None, now, cutoff)


def succeeded(session: Session, name: str, address: str) -> None:
    """Forget the failures of ``name`` from ``address`` (not the address's own count)."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == _pair_key(name, address)))


def forget_name(session: Session, name: str) -> None:
    """Forget the failures of ``name`` from every address: a manager set a new password."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.name_key == _name_key(name)))


def _count(
    session: Session, key: str, name_key: str | None, now: datetime, cutoff: datetime
) -> None:
    # One statement, so that concurrent failures from every worker and instance all count.
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(LoginThrottle).values(
        key=key, name_key=name_key, failures=1, window_started_at=now
    )
    expired = LoginThrottle.window_started_at < cutoff
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[LoginThrottle.key],
            set_={
                "failures": case((expired, 1), else_=LoginThrottle.failures + 1),
                "window_started_at": case((expired, now), else_=LoginThrottle.window_started_at),
            },
        )
    )


def _name_key(name: str) -> str:
    # Names as typed, hashed: a password typed into the name field is not kept in clear.
    return hashlib.sha256(name.strip().casefold().encode("utf-8", "replace")).hexdigest()


def _pair_key(name: str, address: str) -> str:
    return f"n:{_name_key(name)}:{address}"


def _address_key(address: str) -> str:
    return f"a:{address}"


def _keys(name: str, address: str) -> tuple[str, str]:
    return (_pair_key(name, address), _address_key(address))
