"""Staff accounts, their API tokens, login sessions and throttles, and the audit trail."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, UTCDateTime, utcnow


class User(UserMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    role: Mapped[str] = mapped_column(String(16), default="staff")
    password_hash: Mapped[str] = mapped_column(String(256), default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Unused since failed logins are counted per name and address (LoginThrottle): kept while an
    # older instance may still run beside this one during a rolling upgrade; drop them later.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set by each successful password login; None for people who never logged in.
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The phone a call-back rings first (E.164, sip: or client:); "" means CALLERID_FORWARD_TO.
    phone: Mapped[str] = mapped_column(String(100), default="", server_default="")

    @property
    def is_manager(self) -> bool:
        return self.role == "manager"


class ApiToken(Base):
    """A bearer token, stored as its SHA-256: a leaked database does not leak usable tokens."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # What the token opens (auth.tokens.KINDS): "user" acts as its user, "phone" posts call
    # events and looks up callers, "metrics" reads /metrics and nothing else. Tokens made
    # before kinds existed are "user" tokens.
    kind: Mapped[str] = mapped_column(String(16), default="user", server_default="user")
    # The named phone system a "phone" token speaks for ("3CX downtown"); several tokens may
    # share one (a PBX and its standby). None for other kinds.
    source: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class LoginSession(Base):
    """One browser's login. Its cookie carries a secret, kept here only as a SHA-256; ending the
    row logs that browser out, and every copy of its cookie with it (auth.login_sessions)."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginThrottle(Base):
    """Failed logins in the current window, per (name, address) or per address (auth.throttle)."""

    __tablename__ = "login_throttle"

    # "n:<sha256 of the name>:<address>" or "a:<address>"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    # The name's SHA-256 on per-name rows, so that a new password can clear them all.
    name_key: Mapped[str | None] = mapped_column(String(64), index=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class AuditEntry(Base):
    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(80), default="")
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
