"""The customer API: search, create, read, change, merge (erasure has its own file)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from callerid.db import utcnow
from callerid.models import Note

from ..factories import add_call, add_customer


@pytest.mark.parametrize(
    "q", ["(415) 555-0134", "+1.415.555.0134", "0014155550134", "555 0134", "moors"]
)
def test_search_finds_a_customer_by_name_or_any_number_format(client, session, manager, q):
    anna = add_customer(session, "Anna Moors", numbers=("+14155550134",), is_vip=True)
    add_customer(session, "Bob Lee", numbers=("+13125550187",))
    add_call(session, anna, at=utcnow() - timedelta(days=2))
    body = client.get("/api/customers", query_string={"q": q}, headers=manager).get_json()
    assert body["total"] == 1
    (found,) = body["customers"]
    assert found["id"] == anna.id
    assert found["numbers"] == ["+14155550134"]
    assert found["vip"] is True
    assert found["calls_count"] == 1
    assert found["last_call_at"] is not None


def test_search_pages_link_to_the_next_page(client, session, manager):
    for name in ("Ada", "Bea", "Cy"):
        add_customer(session, name, numbers=())
    first = client.get("/api/customers?limit=2", headers=manager).get_json()
    assert [c["name"] for c in first["customers"]] == ["Ada", "Bea"]
    assert (first["page"], first["next_page"], first["total"]) == (1, 2, 3)
    second = client.get(first["next"], headers=manager).get_json()
    assert [c["name"] for c in second["customers"]] == ["Cy"]
    assert second["next"] is None


def test_an_unknown_sort_is_a_bad_request(client, manager):
    response = client.get("/api/customers?sort=age", headers=manager)
    assert response.status_code == 400
    assert (
        response.get_json()["error"]["message"]
        == "Sort must be one of name, last_call, calls, newest."
    )


def test_a_created_customer_comes_back_with_numbers_in_e164(client, manager):
    response = client.post(
        "/api/customers",
        json={
            "name": "Dana Fox",
            "salutation": "Dr.",
            "numbers": ["(415) 555-0199"],
            "tags": ["regular", "wine"],
            "do_not_greet": True,
            "do_not_contact": True,
            "anniversary": "2010-06-01",
        },
        headers=manager,
    )
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"].endswith(f"/api/customers/{body['id']}")
    assert body["numbers"] == ["+14155550199"]
    assert body["tags"] == ["regular", "wine"]
    assert (body["salutation"], body["do_not_greet"], body["anniversary"]) == (
        "Dr.",
        True,
        "2010-06-01",
    )
    assert body["do_not_contact"] is True
    listed = client.get("/api/customers?q=Dana", headers=manager).get_json()["customers"]
    assert [row["do_not_contact"] for row in listed] == [True]
    assert body["calls_count"] == 0 and body["timeline"] == []


def test_a_bad_number_is_refused_naming_the_number_and_the_reason(client, manager):
    response = client.post(
        "/api/customers",
        json={"name": "Dana", "numbers": ["+1 415 555 0199", "555"]},
        headers=manager,
    )
    assert response.status_code == 400
    message = response.get_json()["error"]["message"]
    assert "'555'" in message and "not a valid number" in message


def test_a_body_that_is_not_a_json_object_is_a_bad_request(client, manager):
    response = client.post("/api/customers", data="name=Dana", headers=manager)
    assert response.status_code == 400
    assert response.get_json()["error"]["message"].startswith("Send a JSON object")


def test_a_customer_reads_with_their_recent_calls_and_the_notes_on_them(client, session, manager):
    anna = add_customer(session, "Anna Moors", notes="Allergic to nuts")
    older = add_call(session, anna, at=utcnow() - timedelta(days=3))
    newer = add_call(session, anna, at=utcnow() - timedelta(hours=2), status="no-answer")
    session.add(Note(call_id=older.id, customer_id=anna.id, body="Booked a table for four"))
    session.commit()
    body = client.get(f"/api/customers/{anna.id}", headers=manager).get_json()
    assert body["notes"] == "Allergic to nuts"
    assert [c["call_sid"] for c in body["timeline"]] == [newer.call_sid, older.call_sid]
    assert [n["body"] for n in body["timeline"][1]["notes"]] == ["Booked a table for four"]
    assert body["calls_count"] == 2
    assert body["calls_url"].endswith(f"/api/calls?customer_id={anna.id}")


def test_an_unknown_customer_is_not_found(client, manager):
    for method in ("GET", "PATCH", "DELETE"):
        response = client.open("/api/customers/999", method=method, json={}, headers=manager)
        assert response.status_code == 404, method
        assert response.get_json()["error"]["message"] == "No customer 999."


def test_a_patch_changes_only_the_fields_it_sends(client, session, manager):
    anna = add_customer(session, "Anna Moors", notes="Allergic to nuts")
    response = client.patch(
        f"/api/customers/{anna.id}",
        json={"vip": True, "add_numbers": ["+44 7912 345678"]},
        headers=manager,
    )
    assert response.status_code == 200
    body = response.get_json()
    assert (body["name"], body["notes"], body["vip"]) == ("Anna Moors", "Allergic to nuts", True)
    assert body["numbers"] == ["+14155550134", "+447912345678"]


def test_a_patch_can_replace_the_whole_list_of_numbers(client, session, manager):
    anna = add_customer(session, "Anna Moors", numbers=("+14155550134", "+14155550135"))
    body = client.patch(
        f"/api/customers/{anna.id}",
        json={"numbers": ["415-555-0135", "415-555-0136"]},
        headers=manager,
    ).get_json()
    assert body["numbers"] == ["+14155550135", "+14155550136"]


def test_what_get_answers_can_be_sent_back_as_a_patch(client, session, manager):
    anna = add_customer(session, "Anna Moors", tags="regular")
    read = client.get(f"/api/customers/{anna.id}", headers=manager).get_json()
    response = client.patch(
        f"/api/customers/{anna.id}", json={**read, "name": "Anna M."}, headers=manager
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["name"] == "Anna M."


def test_notes_grown_past_the_limit_can_be_sent_back_unchanged(client, session, manager):
    # Imports and merges append notes without a limit: a client that edits what it read
    # sends them back, and changing the name must not fail on them.
    notes = "Birthday dinner every May, window table.\n" * 120  # 4,920 characters
    anna = add_customer(session, "Anna Moors", notes=notes)
    read = client.get(f"/api/customers/{anna.id}", headers=manager).get_json()
    response = client.patch(
        f"/api/customers/{anna.id}", json={**read, "name": "Anna M."}, headers=manager
    )
    assert response.status_code == 200, response.get_json()
    assert (response.get_json()["name"], response.get_json()["notes"]) == ("Anna M.", notes)


def test_merge_answers_with_the_survivor_and_what_moved(client, session, manager):
    anna = add_customer(session, "Anna Moors", numbers=("+14155550134",))
    dupe = add_customer(session, "", numbers=("+14155550199",), email="anna@example.com")
    add_call(session, dupe)
    response = client.post(
        f"/api/customers/{dupe.id}/merge", json={"into": anna.id}, headers=manager
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["merged"] == {"id": dupe.id, "numbers": 1, "calls": 1, "notes": 0}
    assert body["customer"]["numbers"] == ["+14155550134", "+14155550199"]
    assert body["customer"]["email"] == "anna@example.com"
    assert client.get(f"/api/customers/{dupe.id}", headers=manager).status_code == 404


@pytest.mark.parametrize(("into", "status"), [("self", 400), (999, 404), ("7", 400), (None, 400)])
def test_a_merge_that_cannot_be_done_is_refused(client, session, manager, into, status):
    anna = add_customer(session, "Anna Moors")
    target = anna.id if into == "self" else into
    response = client.post(
        f"/api/customers/{anna.id}/merge", json={"into": target}, headers=manager
    )
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == status


def test_merging_an_unknown_customer_is_not_found(client, session, manager):
    anna = add_customer(session, "Anna Moors")
    response = client.post("/api/customers/999/merge", json={"into": anna.id}, headers=manager)
    assert response.status_code == 404


def test_alerts_and_the_pronunciation_hint_are_written_and_read_through_the_api(client, manager):
    created = client.post(
        "/api/customers",
        json={"name": "Anna Nguyen", "alerts": "Peanut allergy", "pronunciation": "say 'win'"},
        headers=manager,
    ).get_json()
    assert (created["alerts"], created["pronunciation"]) == ("Peanut allergy", "say 'win'")
    refused = client.patch(
        f"/api/customers/{created['id']}", json={"alerts": "x" * 301}, headers=manager
    )
    assert refused.status_code == 400
    assert refused.get_json()["error"]["message"] == "Alerts has at most 300 characters."
