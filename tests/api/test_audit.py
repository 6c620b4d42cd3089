"""GET /api/audit: who exported, erased or merged what, newest first, in pages."""

from __future__ import annotations

from ..factories import add_customer


def test_exports_erasures_and_merges_are_listed_newest_first(client, session, manager):
    anna = add_customer(session, "Anna Moors", numbers=("+14155550134",))
    dupe = add_customer(session, "Anna M.", numbers=("+14155550135",))
    gone = add_customer(session, "Cleo Park", numbers=("+13125550187",))
    client.get("/api/calls.csv?status=missed", headers=manager).get_data()
    client.post(f"/api/customers/{dupe.id}/merge", json={"into": anna.id}, headers=manager)
    client.delete(f"/api/customers/{gone.id}", headers=manager)
    entries = client.get("/api/audit", headers=manager).get_json()["entries"]
    assert [(e["actor"], e["action"], e["target"]) for e in entries] == [
        ("boss", "erase", f"customer {gone.id}"),
        ("boss", "merge", f"customer {dupe.id}"),
        ("boss", "export", "calls"),
    ]
    assert entries[0]["at"].endswith("Z") and entries[0]["user_id"] is not None


def test_the_trail_pages_by_cursor_and_filters_by_action(client, session, manager):
    for _ in range(5):
        client.get("/api/calls.csv", headers=manager).get_data()
    client.delete(f"/api/customers/{add_customer(session).id}", headers=manager)
    ids, url = [], "/api/audit?limit=2"
    while url:
        body = client.get(url, headers=manager).get_json()
        ids += [entry["id"] for entry in body["entries"]]
        url = body["next"]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 6
    erased = client.get("/api/audit?action=erase", headers=manager).get_json()["entries"]
    assert [e["action"] for e in erased] == ["erase"]


def test_a_cursor_the_api_never_gave_is_a_bad_request(client, manager):
    assert client.get("/api/audit?cursor=abc", headers=manager).status_code == 400
