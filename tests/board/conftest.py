"""A staff member logged in through the real form, holding the CSRF token the board page gives."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from ..factories import PASSWORD, add_user, log_in


def page_token(client: FlaskClient) -> str:
    """The CSRF token in the board page's <meta name="csrf-token">, as its scripts read it."""
    page = client.get("/").get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)


@pytest.fixture
def desk(client: FlaskClient, session) -> dict[str, str]:
    """Log ``client`` in as staff member Anna; return the headers the board's scripts send."""
    add_user(session, "Anna", role="staff", password=PASSWORD)
    log_in(client, "Anna")
    return {"X-CSRFToken": page_token(client), "Accept": "application/json"}
