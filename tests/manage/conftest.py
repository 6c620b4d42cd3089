"""People on the manager pages: a manager and a staff member, logged in through the real form."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from ..factories import PASSWORD, add_user, log_in


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
