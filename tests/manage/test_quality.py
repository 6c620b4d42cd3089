"""GET /quality and its one-click fixes, as a manager sees them."""

from __future__ import annotations

import json
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from callerid.models import AuditEntry, Customer, Event, PhoneNumber

from ..factories import add_call, add_customer

HOME = "+14155550134"


def csrf(client: FlaskClient) -> str:
    page = client.get("/quality").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def follow(client: FlaskClient, path: str, data: dict) -> str:
    response = client.post(path, data={"csrf_token": csrf(client), **data})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"] == "/quality"
    return client.get("/quality").get_data(as_text=True)


def section(page: str, anchor: str) -> str:
    start = page.index(f'id="{anchor}"')
    return page[start : page.find("</section>", start)]


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def hidden(html: str, name: str) -> list[str]:
    return re.findall(rf'name="{name}" value="([^"]*)"', html)


@pytest.mark.parametrize("path", ["/quality"])
def test_anonymous_visitors_are_sent_to_log_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_staff_may_not_see_or_fix_data_quality(as_staff, session):
    legacy = add_customer(session, "Legacy", numbers=("555-0199",))
    assert as_staff.get("/quality").status_code == 403
    page = as_staff.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = as_staff.post(
        "/quality/remove", data={"csrf_token": token, "phone_id": legacy.numbers[0].id}
    )
    assert response.status_code == 403
    assert session.scalar(select(PhoneNumber.number)) == "555-0199"


def test_a_clean_directory_says_so_in_every_section(as_manager, session):
    add_customer(session, "Anna Moors", numbers=(HOME,))
    page = as_manager.get("/quality").get_data(as_text=True)
    assert "No likely duplicates." in page
    assert "No shared numbers to review." in page
    assert "Every stored number is in international format." in page
    assert re.search(r'href="/quality" aria-current="page">Data quality<', page)
    assert "style=" not in page


def test_a_likely_duplicate_is_merged_in_one_click(as_manager, session):
    anna = add_customer(session, "Anna Moors", numbers=(HOME,))
    copy = add_customer(session, "A. Moors", numbers=(HOME,))
    add_call(session, anna)
    copy_id = copy.id
    page = as_manager.get("/quality").get_data(as_text=True)
    dups = section(page, "duplicates")
    assert "(415) 555-0134" in text(dups)
    assert "an initial or short form of the first name" in dups
    assert "Merge into Anna Moors" in dups
    assert hidden(dups, "merge") == [str(copy.id)]
    after = follow(
        as_manager, "/quality/merge", {"number": HOME, "into": anna.id, "merge": copy.id}
    )
    assert "Merged 1 record into Anna Moors." in after
    assert "No likely duplicates." in after
    session.expire_all()
    assert session.get(Customer, copy_id) is None
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "merge"))
    assert (entry.actor, entry.target) == ("Maria", f"customer {copy_id}")


def test_a_merge_from_an_old_page_changes_nothing_and_says_why(as_manager, session):
    anna = add_customer(session, "Anna Moors", numbers=(HOME,))
    other = add_customer(session, "Anna Moors", numbers=("+13125550142",))
    after = follow(
        as_manager, "/quality/merge", {"number": HOME, "into": anna.id, "merge": other.id}
    )
    assert "That was already changed" in after
    session.expire_all()
    assert session.get(Customer, other.id) is not None


def test_a_household_is_shown_and_marked_in_one_click(as_manager, session):
    add_customer(session, "Daniel Okafor", numbers=(HOME,))
    add_customer(session, "Grace Okafor", numbers=(HOME,))
    page = as_manager.get("/quality").get_data(as_text=True)
    households = text(section(page, "households"))
    assert "(415) 555-0134 2 customers" in households
    assert "Daniel Okafor 0 calls" in households and "Grace Okafor 0 calls" in households
    after = follow(as_manager, "/quality/household", {"number": HOME})
    assert "(415) 555-0134 is marked as a household of 2." in after
    assert "No shared numbers to review." in after
    labels = set(session.scalars(select(PhoneNumber.label)))
    assert labels == {"household"}


def test_a_number_someone_no_longer_uses_is_removed_from_them(as_manager, session):
    dan = add_customer(session, "Daniel Okafor", numbers=(HOME,))
    grace = add_customer(session, "Grace Okafor", numbers=(HOME,))
    after = follow(as_manager, "/quality/remove", {"phone_id": grace.numbers[0].id})
    assert "Removed (415) 555-0134 from Grace Okafor." in after
    owners = list(session.scalars(select(PhoneNumber.customer_id)))
    assert owners == [dan.id]
    # Open screens hear of it: a card for that number must stop naming Grace.
    changed = session.scalars(select(Event.data).where(Event.kind == "customer.updated")).all()
    assert [json.loads(data)["customer_id"] for data in changed] == [grace.id]


def test_a_legacy_number_is_normalised_and_then_finds_its_caller(as_manager, session):
    legacy = add_customer(session, "Legacy Larry", numbers=("(312) 555-0142",))
    page = as_manager.get("/quality").get_data(as_text=True)
    rows = text(section(page, "unreadable"))
    assert "(312) 555-0142 Legacy Larry (312) 555-0142 (+13125550142) Normalise" in rows
    assert "refuses any row with a number it cannot read" in page
    after = follow(as_manager, "/quality/normalise", {"phone_id": legacy.numbers[0].id})
    assert "Stored as +13125550142" in after
    assert "Every stored number is in international format." in after
    card = as_manager.get("/api/callers/+13125550142").get_json()
    assert card["customer"]["name"] == "Legacy Larry"
    assert session.scalar(select(AuditEntry.action)) == "number.normalise"
    assert "Normalised a number" in as_manager.get("/audit").get_data(as_text=True)


def test_a_number_that_cannot_be_read_is_offered_for_removal(as_manager, session):
    add_customer(session, "Legacy Larry", numbers=("555-0199", HOME))
    page = as_manager.get("/quality").get_data(as_text=True)
    rows = section(page, "unreadable")
    assert "Cannot be read: not a valid number for its country" in rows
    assert "Normalise" not in rows
    phone_id = hidden(rows, "phone_id")[0]
    refused = follow(as_manager, "/quality/normalise", {"phone_id": phone_id})
    assert "555-0199 cannot be read" in refused
    after = follow(as_manager, "/quality/remove", {"phone_id": phone_id})
    assert "Every stored number is in international format." in after
    assert list(session.scalars(select(PhoneNumber.number))) == [HOME]


def test_customer_text_is_escaped(as_manager, session):
    add_customer(session, "<img src=x onerror=alert(1)>", numbers=(HOME, "<b>0</b>"))
    add_customer(session, "<img src=x onerror=alert(1)>", numbers=(HOME,))
    page = as_manager.get("/quality").get_data(as_text=True)
    assert "<img src=x" not in page and "<b>0</b>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;b&gt;0&lt;/b&gt;" in page


def test_a_fix_without_its_csrf_token_is_refused(as_manager, session):
    legacy = add_customer(session, "Legacy", numbers=("555-0199",))
    response = as_manager.post("/quality/remove", data={"phone_id": legacy.numbers[0].id})
    assert response.status_code in (400, 403)
    assert session.scalar(select(PhoneNumber.number)) == "555-0199"


def test_an_allergy_in_the_notes_moves_into_alerts_in_one_click(as_manager, session):
    priya = add_customer(
        session,
        "Priya Raman",
        notes="Regular since 2019. Severe shellfish allergy; EpiPen in her bag.\nLikes booth 3.",
    )
    add_customer(session, "Tom Lee", numbers=("+13125550187",), notes="Likes the terrace.")
    add_customer(
        session,
        "Ada Flagged",
        numbers=("+13125550188",),
        alerts="Peanut allergy",
        notes="Peanut allergy.",
    )
    page = as_manager.get("/quality").get_data(as_text=True)
    assert "<title>Data quality · callerid</title>" in page
    assert page.count('id="allergies"') == 1
    shown = section(page, "allergies")
    assert hidden(shown, "customer_id") == [str(priya.id)]  # the others need nothing
    assert hidden(shown, "sentence") == ["Severe shellfish allergy;"]

    after = follow(
        as_manager,
        "/quality/alerts",
        {"customer_id": priya.id, "field": "notes", "sentence": "Severe shellfish allergy;"},
    )
    assert "Moved into Priya Raman&#39;s alerts." in after
    session.expire_all()
    saved = session.get(Customer, priya.id)
    assert saved.alerts == "Severe shellfish allergy;"
    assert saved.notes == "Regular since 2019. EpiPen in her bag.\nLikes booth 3."
    assert "No allergy is left in notes or preferences" in section(after, "allergies")
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "customer.alerts"))
    assert (entry.target, entry.detail) == (
        f"customer {priya.id}",
        "moved a sentence from notes into alerts",
    )
    kinds = session.scalars(select(Event.kind)).all()
    assert kinds == ["customer.updated"]  # open screens redraw the card with its alert


def test_a_move_the_page_no_longer_matches_changes_nothing(as_manager, session):
    priya = add_customer(session, "Priya Raman", preferences="Nut allergy.")
    page = follow(
        as_manager,
        "/quality/alerts",
        {"customer_id": priya.id, "field": "preferences", "sentence": "Shellfish allergy."},
    )
    assert "That was already changed" in page
    session.expire_all()
    assert session.get(Customer, priya.id).alerts == ""


def test_customers_with_one_name_on_different_numbers_are_listed_to_compare(as_manager, session):
    first = add_customer(session, "Priya Raman", numbers=("+12025550178",))
    second = add_customer(session, "priya raman ", numbers=("+14155550134",))
    add_customer(session, "Tom Lee", numbers=("+13125550187",))
    add_customer(session, "Tom Lee", numbers=("+13125550187",))  # one number: a duplicate
    page = as_manager.get("/quality").get_data(as_text=True)
    shown = section(page, "namesakes")
    assert "Priya Raman" in shown and "Tom Lee" not in shown
    assert f'href="/customers/{first.id}/merge/{second.id}"' in shown
