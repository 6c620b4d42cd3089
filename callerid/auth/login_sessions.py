"""Login sessions that can end: one row per browser login, which the cookie names by a secret.

Flask's cookie sessions are signed, not stored, so logging out used to end nothing: a copied
cookie kept working for 31 days (issue 13, finding 3). Now every request of a logged-in browser
finds its row; ending the row ends that login, wherever its cookie was copied to.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ..db import changed_rows, utcnow
from ..models import ApiToken, LoginSession, User
from .tokens import digest

# The key in Flask's session under which the cookie carries the login's secret.
COOKIE_KEY = "login"
# As Flask's PERMANENT_SESSION_LIFETIME: a login older than this is over, used or not.
LIFETIME = timedelta(days=31)
# How long one process trusts a "still live" answer for an open stream: the streams of one login
# share a check instead of asking the database each.
CHECK_SECONDS = 1.0


def begin(session: Session, user: User) -> str:
    """Start a login of ``user`` and return its secret, for the cookie; only its digest is kept.
    Ended and expired logins of ``user`` are deleted on the way. The caller commits."""
    session.execute(
        delete(LoginSession).where(
            LoginSession.user_id == user.id,
            or_(LoginSession.ended_at.is_not(None), LoginSession.created_at < utcnow() - LIFETIME),
        )
    )
    secret = secrets.token_urlsafe(32)
    session.add(LoginSession(user_id=user.id, secret_hash=digest(secret)))
    session.flush()
    return secret


def find(session: Session, user_id: int, secret: str) -> tuple[User, int] | None:
    """The active user ``user_id`` and the id of their live login with ``secret``, or None when
    that login ended, expired, is someone else's, or the user is deactivated."""
    row = session.execute(
        select(User, LoginSession.id)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(
            LoginSession.secret_hash == digest(secret),
            LoginSession.user_id == user_id,
            LoginSession.ended_at.is_(None),
            LoginSession.created_at >= utcnow() - LIFETIME,
            User.is_active.is_(True),
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


def end(session: Session, secret: str) -> None:
    """End the login with ``secret`` (logout); an unknown or ended one is left as it is."""
    session.execute(
        update(LoginSession)
        .where(LoginSession.secret_hash == digest(secret), LoginSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


def end_all(session: Session, user: User) -> int:
    """End every login of ``user`` (a password reset, deactivation, "log out everywhere");
    return how many were live. Their open /events streams close within one heartbeat."""
    result = session.execute(
        update(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
    return changed_rows(result)


def count_live(session: Session, user: User) -> int:
    """How many browsers are logged in as ``user`` right now."""
    return (
        session.scalar(
            select(func.count()).where(
                LoginSession.user_id == user.id,
                LoginSession.ended_at.is_(None),
                LoginSession.created_at >= utcnow() - LIFETIME,
            )
        )
        or 0
    )


def is_live(session: Session, kind: str, ident: int) -> bool:
    """Whether the credential an open stream was admitted with still holds: a login (``kind``
    "login") not ended nor expired, or a token ("token") not revoked, of an active user."""
    if kind == "login":
        query = select(LoginSession.id).where(
            LoginSession.id == ident,
            LoginSession.ended_at.is_(None),
            LoginSession.created_at >= utcnow() - LIFETIME,
        )
        model: type[LoginSession] | type[ApiToken] = LoginSession
    else:
        query = select(ApiToken.id).where(ApiToken.id == ident, ApiToken.revoked_at.is_(None))
        model = ApiToken
    query = query.join(User, User.id == model.user_id).where(User.is_active.is_(True))
    return session.scalar(query) is not None


class LiveChecks:
    """``is_live`` answers for one process's open streams, each kept ``CHECK_SECONDS``."""

    def __init__(self, seconds: float = CHECK_SECONDS) -> None:
        self.seconds = seconds
        self._lock = threading.Lock()
        self._answers: dict[tuple[str, int], tuple[float, bool]] = {}

    def is_live(self, session_factory: Callable[[], Session], kind: str, ident: int) -> bool:
        """``is_live`` through a session from ``session_factory`` (called, then closed), unless
        this process asked about the same credential less than ``seconds`` ago."""
        now = time.monotonic()
        with self._lock:
            checked = self._answers.get((kind, ident))
        if checked is not None and now - checked[0] < self.seconds:
            return checked[1]
        try:
            with session_factory() as session:
                live = is_live(session, kind, ident)
        except SQLAlchemyError:
            # The database is away, so nothing can end a login meanwhile either: a stream
            # admitted with a live one stays open (screens keep their place) and asks again
            # at its next heartbeat.
            return True if checked is None else checked[1]
        with self._lock:
            if len(self._answers) > 10_000:
                self._answers.clear()  # a bound, not a policy: answers are cheap to redo
            self._answers[(kind, ident)] = (now, live)
        return live
