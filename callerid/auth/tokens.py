"""API bearer tokens: shown once, stored only as a SHA-256 digest."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import utcnow
from ..models import ApiToken, User

PREFIX = "cid_"


def issue(session: Session, user: User) -> str:
    """Create a token for ``user`` and return it in clear; only its digest is kept."""
    token = PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user=user, token_hash=digest(token)))
    session.flush()
    return token


def user_for(session: Session, token: str) -> User | None:
    """The active user a live token belongs to, or None."""
    row = session.scalar(
        select(ApiToken).where(ApiToken.token_hash == digest(token), ApiToken.revoked_at.is_(None))
    )
    if row is None or not row.user.is_active:
        return None
    return row.user


def revoke_all(session: Session, user: User) -> int:
    """Revoke every live token of ``user``; return how many."""
    rows = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    for row in rows:
        row.revoked_at = utcnow()
    return len(rows)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
