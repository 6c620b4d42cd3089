"""People who log in: staff and managers, with hashed passwords and a lock after failed tries."""

from __future__ import annotations

import functools
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ..db import utcnow
from ..models import User

ROLES = ("staff", "manager")
MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=5)


@functools.cache
def _dummy_hash() -> str:
    # Checked when the name is unknown, so a wrong name costs the same time as a wrong password.
    # Made on first use: hashing costs ~0.3 s, which every CLI command would pay at import.
    return generate_password_hash("not a real password")


class UserExists(ValueError):
    pass


class Locked(Exception):
    """Too many failed logins; try again after ``until``."""

    def __init__(self, until: object) -> None:
        super().__init__(f"locked until {until}")
        self.until = until


def create_user(session: Session, name: str, role: str, password: str) -> User:
    """Add a user; raises ValueError for an unknown role or empty password, UserExists if taken."""
    name = name.strip()
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if not name:
        raise ValueError("a user needs a name")
    if len(password) < 8:
        raise ValueError("a password needs at least 8 characters")
    if session.scalar(select(User).where(User.name == name)) is not None:
        raise UserExists(f"a user named {name!r} already exists")
    user = User(name=name, role=role)
    set_password(user, password)
    session.add(user)
    session.flush()
    return user


def set_password(user: User, password: str) -> None:
    user.password_hash = generate_password_hash(password)
    user.failed_logins = 0
    user.locked_until = None


def find(session: Session, name: str) -> User | None:
    return session.scalar(select(User).where(User.name == name.strip()))


def authenticate(session: Session, name: str, password: str) -> User | None:
    """The active user with this name and password, or None. Raises ``Locked`` after
    ``MAX_FAILURES`` wrong passwords in a row, for ``LOCK_FOR``. The caller commits."""
    user = find(session, name)
    if user is None or not user.is_active:
        check_password_hash(_dummy_hash(), password)
        return None
    now = utcnow()
    if user.locked_until is not None and user.locked_until > now:
        raise Locked(user.locked_until)
    if not check_password_hash(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until = now + LOCK_FOR
            user.failed_logins = 0
        return None
    user.failed_logins = 0
    user.locked_until = None
    return user
