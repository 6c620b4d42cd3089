"""People who call the API: a staff member and a manager, each with a bearer token."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

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


def log_in(client: FlaskClient, name: str, password: str = "correct horse") -> str:
    """Log in through the real form, as a browser does; return the CSRF token of the pages
    that follow."""
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"name": name, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    # The login renewed the session and its CSRF token: read the new one, as the next page would.
    page = client.get("/account").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


@pytest.fixture
def phone(session) -> dict[str, str]:
    """Headers of a phone system's client: a ``phone`` token of the system "3CX"."""
    owner = add_user(session, "switchboard", "staff")
    return {"Authorization": f"Bearer {token_for(session, owner, kind='phone', source='3CX')}"}
