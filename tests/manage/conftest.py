"""People on the manager pages: a manager and a staff member, logged in through the real form."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from ..factories import add_user

PASSWORD = "correct horse"


def log_in(client: FlaskClient, name: str, password: str = PASSWORD) -> str:
    """Log in as a browser does; return the CSRF token of the pages that follow, for form posts."""
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"name": name, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    # The login renewed the session and its CSRF token: read the new one, as the next page would.
    page = client.get("/account").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


@pytest.fixture
def as_manager(client: FlaskClient, session) -> FlaskClient:
    """``client``, logged in as the manager "Maria"."""
    add_user(session, "Maria", role="manager", password=PASSWORD)
    log_in(client, "Maria")
    return client


@pytest.fixture
def as_staff(client: FlaskClient, session) -> FlaskClient:
    """``client``, logged in as the staff member "Sam"."""
    add_user(session, "Sam", role="staff", password=PASSWORD)
    log_in(client, "Sam")
    return client
