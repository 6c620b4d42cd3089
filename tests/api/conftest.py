"""People who call the API: a staff member and a manager, each with a bearer token."""

from __future__ import annotations

import pytest

from ..factories import add_user, token_for


def bearer(session, name: str, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(session, add_user(session, name, role))}"}


@pytest.fixture
def staff(session) -> dict[str, str]:
    """Headers of a staff member's API client."""
    return bearer(session, "desk", "staff")


@pytest.fixture
def manager(session) -> dict[str, str]:
    """Headers of a manager's API client."""
    return bearer(session, "boss", "manager")


@pytest.fixture
def phone(session) -> dict[str, str]:
    """Headers of a phone system's client: a ``phone`` token of the system "3CX"."""
    owner = add_user(session, "switchboard", "staff")
    return {"Authorization": f"Bearer {token_for(session, owner, kind='phone', source='3CX')}"}
