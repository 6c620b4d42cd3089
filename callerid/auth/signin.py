"""One login attempt: throttled by address, the password checked, the outcome counted, and on
success a new login begun."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..models import User
from . import login_sessions, throttle
from .users import authenticate


def attempt(
    session: Session, name: str, password: str, address: str, limits: throttle.Limits
) -> tuple[User, str] | None:
    """Log ``name`` in from ``address``: the user and the new login's secret (for the cookie),
    or None for a wrong name or password, counted against ``address``. Raises
    ``throttle.Throttled``, before any password is checked, when ``address`` must wait. The
    caller commits."""
    throttle.check(session, name, address, limits)
    user = authenticate(session, name, password)
    if user is None:
        throttle.failed(session, name, address, limits)
        return None
    throttle.succeeded(session, name, address)
    return user, login_sessions.begin(session, user)
