"""People who log in: staff and managers, with hashed passwords (failed tries: auth.throttle)."""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from .. import audit, numbers
from ..db import utcnow
from ..models import ApiToken, User
from . import login_sessions, throttle

ROLES = ("staff", "manager")
# werkzeug's scrypt costs about 70 ms a hash here: slow on purpose, against guessing. Only the
# test suite, which hashes about a thousand passwords, asks for a cheaper method.
DEFAULT_HASH_METHOD = "scrypt"
_hash_method = DEFAULT_HASH_METHOD
# What a hash made with _hash_method starts with ("scrypt:32768:8:1$"), once use_hash_method has
# run (create_app runs it): a stored hash that does not is re-made at the next login, so changing
# the method upgrades every password in time.
_hash_prefix = ""
MIN_PASSWORD = 8
# Generated passwords avoid letters and digits that look alike (0/o, 1/l/i) when read aloud.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def use_hash_method(method: str) -> None:
    """Hash passwords set from now on with ``method``, a werkzeug method string such as
    ``scrypt`` or ``pbkdf2:sha256:600000``. Stored hashes keep working whatever made them.
    Raises ``ValueError`` for a method werkzeug does not know."""
    global _hash_method, _hash_prefix
    # Refuses an unknown method now, not at the first login.
    prefix = generate_password_hash("check", method).split("$", 1)[0] + "$"
    _hash_method, _hash_prefix = method, prefix


@functools.cache
def _dummy_hash(method: str) -> str:
    # Checked when the name is unknown, so a wrong name costs the same time as a wrong password.
    # Made on first use: hashing costs ~0.3 s, which every CLI command would pay at import.
    return generate_password_hash("not a real password", method)


class InvalidUser(ValueError):
    """An unknown role, or a name that is empty or too long."""


class UserExists(ValueError):
    pass


class WeakPassword(ValueError):
    """A password the login rules refuse; the message says which rule."""


class WrongPassword(ValueError):
    """The current password given to change it was not the current password."""


class UnknownUser(LookupError):
    pass


class WouldLockOut(ValueError):
    """A change that would lock people out: deactivating yourself or the last active manager."""


def create_user(session: Session, name: str, role: str, password: str) -> User:
    """Add a user; raises ``InvalidUser`` for an unknown role or a bad name, ``WeakPassword``,
    or ``UserExists`` if the name is taken."""
    name = name.strip()
    if role not in ROLES:
        raise InvalidUser(f"role must be one of {', '.join(ROLES)}")
    if not name:
        raise InvalidUser("a user needs a name")
    if len(name) > 80:
        raise InvalidUser("a name has at most 80 characters")
    check_strength(password)
    if session.scalar(select(User).where(User.name == name)) is not None:
        raise UserExists(f"a user named {name!r} already exists")
    user = User(name=name, role=role)
    set_password(user, password)
    session.add(user)
    session.flush()
    return user


def check_strength(password: str) -> None:
    """Raise ``WeakPassword`` unless ``password`` follows the rules every password follows (the
    CLI's and the users page's alike): at least ``MIN_PASSWORD`` characters, not only spaces."""
    if len(password) < MIN_PASSWORD:
        raise WeakPassword(f"a password needs at least {MIN_PASSWORD} characters")
    if not password.strip():
        raise WeakPassword("a password cannot be only spaces")


def generate_password() -> str:
    """A new random password, about 79 bits strong, easy to read out: ``k7mp-x3qa-9fzt-hw2e``."""
    chars = "".join(secrets.choice(_ALPHABET) for _ in range(16))
    return "-".join(chars[i : i + 4] for i in range(0, 16, 4))


def set_password(user: User, password: str) -> None:
    user.password_hash = generate_password_hash(password, _hash_method)


def find(session: Session, name: str) -> User | None:
    return session.scalar(select(User).where(User.name == name.strip()))


def authenticate(session: Session, name: str, password: str) -> User | None:
    """The active user with this name and password, or None. Exactly one password hash check
    runs whatever the name: an unknown or deactivated name is checked against a dummy hash of
    the configured method, so neither the answer nor its time tells which names exist. Failed
    tries are counted by the caller (``throttle``), never here. The caller commits."""
    user = find(session, name)
    if user is None or not user.is_active:
        check_password_hash(_dummy_hash(_hash_method), password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    if _hash_prefix and not user.password_hash.startswith(_hash_prefix):
        # Made with another method (an older default, or a test setting left in place): the
        # password is known right now, so re-hash it the way every other login is checked.
        user.password_hash = generate_password_hash(password, _hash_method)
    user.last_login_at = utcnow()
    return user


# The users page: every change is checked here and written to the audit trail -----------------


@dataclass(frozen=True, slots=True)
class ListedUser:
    user: User
    live_tokens: int


def listing(session: Session) -> list[ListedUser]:
    """Every user, managers first then by name, with how many unrevoked API tokens they hold."""
    live = (
        select(ApiToken.user_id, func.count().label("live"))
        .where(ApiToken.revoked_at.is_(None))
        .group_by(ApiToken.user_id)
        .subquery()
    )
    rows = session.execute(
        select(User, func.coalesce(live.c.live, 0))
        .outerjoin(live, live.c.user_id == User.id)
        .order_by(case((User.role == "manager", 0), else_=1), func.lower(User.name), User.id)
    ).all()
    return [ListedUser(user, count) for user, count in rows]


def get(session: Session, user_id: int) -> User:
    """The user with this id; raises ``UnknownUser``."""
    user = session.get(User, user_id)
    if user is None:
        raise UnknownUser(f"no user {user_id}")
    return user


def add(session: Session, name: str, role: str, password: str, *, by: User) -> User:
    """``create_user`` from the users page, recorded as done by ``by``. Same errors."""
    user = create_user(session, name, role, password)
    _record(session, "user.create", user, by, f"role {role}")
    return user


def reset_password(session: Session, user: User, password: str, *, by: User) -> None:
    """Give ``user`` a new password, forget the failed tries at their name (from any address)
    and end every login of theirs (their open screens close within a heartbeat); raises
    ``WeakPassword``."""
    check_strength(password)
    set_password(user, password)
    throttle.forget_name(session, user.name)
    login_sessions.end_all(session, user)
    _record(session, "user.password_reset", user, by)


def change_own_password(session: Session, user: User, current: str, new: str) -> None:
    """``user`` changes their own password, knowing the current one: every login of theirs
    ends (the caller starts a new one for the browser that asked). Raises ``WrongPassword``
    or ``WeakPassword``."""
    if not check_password_hash(user.password_hash, current):
        raise WrongPassword("That is not your current password.")
    check_strength(new)
    set_password(user, new)
    login_sessions.end_all(session, user)
    _record(session, "user.password_change", user, user)


def deactivate(session: Session, user: User, *, by: User) -> None:
    """Stop ``user`` logging in; their logins end and their tokens stop working at their next
    request, their open screens within a heartbeat.
    Raises ``WouldLockOut`` for oneself and for the last active manager."""
    if user.id == by.id:
        raise WouldLockOut("You cannot deactivate yourself: ask another manager.")
    if user.is_manager and user.is_active and not _active_manager_ids(session) - {user.id}:
        raise WouldLockOut(f"{user.name} is the last active manager: make another manager first.")
    if user.is_active:
        user.is_active = False
        login_sessions.end_all(session, user)
        _record(session, "user.deactivate", user, by)


def reactivate(session: Session, user: User, *, by: User) -> None:
    """Let ``user`` log in again (their unrevoked tokens work again too)."""
    if not user.is_active:
        user.is_active = True
        _record(session, "user.reactivate", user, by)


class BadPhone(ValueError):
    """A staff phone that cannot be rung; the message says why."""


def set_phone(session: Session, user: User, raw: str, region: str, *, by: User | None) -> str:
    """Set the phone a call-back rings first for ``user``: a number in any format (kept in
    E.164), a ``sip:`` URI or a ``client:`` identity; empty clears it (``CALLERID_FORWARD_TO``
    is rung instead). Returns what was stored; raises ``BadPhone``."""
    phone = raw.strip()
    if phone and not phone.lower().startswith(("sip:", "client:")):
        try:
            phone = numbers.parse(phone, region)
        except numbers.InvalidNumber as error:
            raise BadPhone(f"{raw.strip()!r} cannot be rung: {error.reason}.") from error
    if phone != user.phone:
        user.phone = phone
        if by is not None:
            _record(session, "user.phone", user, by, phone or "cleared")
    return phone


def _active_manager_ids(session: Session) -> set[int]:
    # FOR UPDATE on PostgreSQL: two managers deactivating each other at once take turns, and the
    # second then sees the first change, so one manager always stays. (SQLite has one writer.)
    return set(
        session.scalars(
            select(User.id)
            .where(User.role == "manager", User.is_active.is_(True))
            .with_for_update()
        )
    )


def _record(session: Session, action: str, user: User, by: User, detail: str = "") -> None:
    audit.record(
        session,
        action,
        f"user {user.id} ({user.name})",
        actor=by.name,
        user_id=by.id,
        detail=detail,
    )
