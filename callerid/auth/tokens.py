"""API bearer tokens: shown once, stored only as a SHA-256 digest."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .. import audit
from ..db import utcnow
from ..models import ApiToken, User

PREFIX = "cid_"
# What a token opens. "user": everything its user may (the API, /events); "phone": a phone system
# posts its call events and looks callers up (/api/phone/*), nothing else; "metrics": GET /metrics
# only, so that a monitoring server never holds a secret that reads customers.
KINDS = ("user", "phone", "metrics")
# The phone system a "phone" token speaks for when none is named.
DEFAULT_SOURCE = "pbx"
SOURCE_MAX = 80
# How stale "last used" may get: at most one write per token per interval, so a busy script's
# requests do not each take SQLite's write lock.
USE_GRANULARITY = timedelta(minutes=1)


class UnknownToken(LookupError):
    pass


class UnknownKind(ValueError):
    pass


class BadSource(ValueError):
    """A phone system's name that is too long."""


def issue(
    session: Session,
    user: User,
    *,
    kind: str = "user",
    by: User | None = None,
    source: str = DEFAULT_SOURCE,
) -> str:
    """Create a token of ``kind`` for ``user`` and return it in clear; only its digest is kept.
    A ``phone`` token speaks for the phone system named ``source`` (tokens with the same name
    are the same system: its calls are theirs). When ``by`` is given (the users page) the
    audit trail records who made it. Raises ``UnknownKind`` for a kind not in ``KINDS`` and
    ``BadSource`` for a name longer than ``SOURCE_MAX``."""
    if kind not in KINDS:
        raise UnknownKind(f"a token's kind is one of {', '.join(KINDS)}, not {kind!r}")
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user=user, token_hash=digest(token), kind=kind, source=_source(kind, source))
    session.add(row)
    session.flush()
    if by is not None:
        _record(session, "token.create", row, by)
    return token


def _source(kind: str, source: str) -> str | None:
    if kind != "phone":
        return None
    name = " ".join(source.split()) or DEFAULT_SOURCE
    if len(name) > SOURCE_MAX:
        raise BadSource(f"a phone system's name has at most {SOURCE_MAX} characters")
    return name


def live_token(session: Session, token: str) -> ApiToken | None:
    """The unrevoked token row for ``token`` if its user is active, else None."""
    row = session.scalar(
        select(ApiToken).where(ApiToken.token_hash == digest(token), ApiToken.revoked_at.is_(None))
    )
    if row is None or not row.user.is_active:
        return None
    return row


def is_due_for_use_mark(row: ApiToken) -> bool:
    """Whether ``row.last_used_at`` is older than ``USE_GRANULARITY`` (or unset)."""
    return row.last_used_at is None or row.last_used_at < utcnow() - USE_GRANULARITY


def mark_used(session: Session, token_id: int) -> None:
    """Set the token's ``last_used_at`` to now. The caller commits."""
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=utcnow()))


def of_user(session: Session, user: User) -> list[ApiToken]:
    """Every token ``user`` ever had, live ones first, newest first."""
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())
        )
    )


def revoke(session: Session, user: User, token_id: int, *, by: User) -> ApiToken:
    """Revoke one of ``user``'s tokens (already revoked: unchanged) and record it. Raises
    ``UnknownToken`` when ``user`` has no such token."""
    row = session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id)
    )
    if row is None:
        raise UnknownToken(f"user {user.id} has no token {token_id}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        _record(session, "token.revoke", row, by)
    return row


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _record(session: Session, action: str, row: ApiToken, by: User) -> None:
    audit.record(
        session,
        action,
        f"user {row.user.id} ({row.user.name})",
        actor=by.name,
        user_id=by.id,
        detail=f"{row.kind} token {row.id}" + (f" for {row.source}" if row.source else ""),
    )
