"""Staff read and change customers only through the cards on their board (issue 13, finding 9):
the board's edit route is not a way into the rest of the directory."""

from __future__ import annotations

from datetime import timedelta

import pytest

from callerid.db import utcnow
from callerid.models import Customer

from ..board.conftest import page_token
from ..factories import add_call, add_customer, add_user, log_in

PASSWORD = "correct horse"


@pytest.fixture
def as_role(client, session):
    """Log ``client`` in with the given role; return the headers the board's scripts send."""

    def logged_in(role: str) -> dict[str, str]:
        add_user(session, role, role=role, password=PASSWORD)
        log_in(client, role)
        return {"X-CSRFToken": page_token(client), "Accept": "application/json"}

    return logged_in


def test_staff_cannot_read_a_customer_no_card_shows(client, session, as_role):
    desk = as_role("staff")
    anna = add_customer(session, "Anna Moors", email="anna@example.com", notes="private")
    add_call(session, anna, at=utcnow() - timedelta(days=2))  # long off the board
    response = client.patch(f"/board/customers/{anna.id}", json={}, headers=desk)
    assert response.status_code == 404
    assert "anna" not in response.get_data(as_text=True).lower()
    changed = client.patch(f"/board/customers/{anna.id}", json={"vip": True}, headers=desk)
    assert changed.status_code == 404
    session.expire_all()
    assert session.get(Customer, anna.id).is_vip is False


@pytest.mark.parametrize(
    "status, ago", [("ringing", timedelta(seconds=5)), ("completed", timedelta(hours=3))]
)
def test_staff_edit_a_customer_on_a_current_or_recent_card(client, session, as_role, status, ago):
    desk = as_role("staff")
    anna = add_customer(session, "Anna Moors", email="anna@example.com")
    add_call(session, anna, status=status, at=utcnow() - ago)
    response = client.patch(f"/board/customers/{anna.id}", json={"vip": True}, headers=desk)
    assert response.status_code == 200
    shown = response.get_json()["customer"]
    assert shown["vip"] is True
    # The fields of the card's customer, as the board's events carry them: no e-mail address.
    assert "email" not in shown


def test_a_shared_numbers_other_customer_is_on_the_card_too(client, session, as_role):
    desk = as_role("staff")
    anna = add_customer(session, "Anna Moors", numbers=("+14155550134",))
    ben = add_customer(session, "Ben Moors", numbers=("+14155550134",))
    add_call(session, anna, status="ringing", at=utcnow())
    response = client.patch(f"/board/customers/{ben.id}", json={"notes": "x"}, headers=desk)
    assert response.status_code == 200


def test_managers_still_edit_any_customer_from_the_board(client, session, as_role):
    boss = as_role("manager")
    anna = add_customer(session, "Anna Moors")
    response = client.patch(f"/board/customers/{anna.id}", json={"vip": True}, headers=boss)
    assert response.status_code == 200
