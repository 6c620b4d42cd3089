"""directory.erase on data the pages never write, such as numbers left by a legacy import."""

from __future__ import annotations

from sqlalchemy import select

from callerid.directory import erase
from callerid.models import Customer, PhoneNumber

from ..factories import add_customer


def test_a_customer_with_a_number_not_in_e164_can_still_be_erased(session):
    legacy = add_customer(session, "Marcus Bell", numbers=("+17185550167", "(503) 555-0172"))
    erased = erase.erase(session, legacy.id, actor="Maria")
    session.commit()
    assert erased.customer_id == legacy.id
    assert session.get(Customer, legacy.id).erased_at is not None
    assert list(session.scalars(select(PhoneNumber.number))) == []
