"""GET /audit: the trail of exports, erasures, merges and anonymisations, as managers read it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

import pytest

from callerid import audit

from ..factories import add_customer, add_user, token_for


def rows(page: str) -> list[list[str]]:
    """The table's cells, tags removed, one list per entry."""
    body = page[page.index("<tbody>") : page.index("</tbody>")] if "<tbody>" in page else ""
    return [
        [
            unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in re.findall(r"<tr data-entry[^>]*>(.*?)</tr>", body, re.S)
    ]


def older_link(page: str) -> str | None:
    found = re.search(r'<a class="button" href="([^"]+)" rel="next">', page)
    return unescape(found.group(1)) if found else None


@pytest.fixture
def trail(session):
    audit.record(session, audit.EXPORT, "calls", actor="Maria", detail="status=missed")
    audit.record(session, audit.MERGE, "customer 4", actor="Maria", detail="into customer 2")
    audit.record(session, audit.ERASE, "customer 9", actor="Omar")
    audit.record(session, audit.ANONYMISE, "calls", actor="cli", detail="older than 365 days")
    session.commit()


def test_the_trail_is_listed_newest_first_in_plain_words(as_manager, trail):
    page = as_manager.get("/audit").get_data(as_text=True)
    assert [row[1:] for row in rows(page)] == [
        ["cli", "Anonymised", "calls", "older than 365 days"],
        ["Omar", "Erased", "customer 9", ""],
        ["Maria", "Merged", "customer 4", "into customer 2"],
        ["Maria", "Exported", "calls", "status=missed"],
    ]
    assert "<h1" in page and "Audit log" in page


def test_times_are_shown_in_the_business_time_zone(app, as_manager, session):
    app.config["CALLERID_TIMEZONE"] = "America/New_York"
    entry = audit.record(session, audit.EXPORT, "customers", actor="Maria")
    entry.created_at = datetime(2026, 1, 6, 3, 15, tzinfo=UTC)
    session.commit()
    page = as_manager.get("/audit").get_data(as_text=True)
    assert rows(page)[0][0] == "2026-01-05 22:15"
    assert "America/New_York" in page


def test_the_trail_filters_by_action_and_by_who(as_manager, trail):
    erased = rows(as_manager.get("/audit?action=erase").get_data(as_text=True))
    assert [row[2] for row in erased] == ["Erased"]
    by_maria = rows(as_manager.get("/audit?actor=Maria").get_data(as_text=True))
    assert [row[2] for row in by_maria] == ["Merged", "Exported"]
    both = as_manager.get("/audit?actor=Maria&action=erase").get_data(as_text=True)
    assert rows(both) == []
    assert "Nothing in the audit log matches these filters." in both
    form = as_manager.get("/audit?actor=Maria").get_data(as_text=True)
    assert '<option value="Maria" selected>Maria</option>' in form
    assert '<option value="erase">Erased</option>' in form


def test_the_trail_comes_a_page_at_a_time_without_repeats(as_manager, session):
    for n in range(120):
        audit.record(session, audit.EXPORT, f"calls {n}", actor="Maria" if n % 2 else "Omar")
    session.commit()
    seen, url, pages = [], "/audit?actor=Maria", 0
    while url:
        page = as_manager.get(url).get_data(as_text=True)
        seen += [row[3] for row in rows(page)]
        url, pages = older_link(page), pages + 1
        if url:
            assert "actor=Maria" in url  # the filter holds on every page
    assert pages == 2
    assert seen == [f"calls {n}" for n in range(119, 0, -2)]
    second = as_manager.get(older_link(as_manager.get("/audit").get_data(as_text=True)))
    assert "Back to the newest" in second.get_data(as_text=True)


def test_every_text_in_the_trail_is_escaped(as_manager, session):
    audit.record(
        session, "<b>odd</b>", "<script>alert(1)</script>", actor="<i>Eve</i>", detail="a & <b>"
    )
    session.commit()
    page = as_manager.get("/audit").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "<i>Eve" not in page and "<b>odd" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert rows(page)[0][1:] == ["<i>Eve</i>", "<b>odd</b>", "<script>alert(1)</script>", "a & <b>"]


def test_real_erasures_and_merges_show_up(app, as_manager, session):
    api = app.test_client()  # an integrator's script, with its own token
    headers = {
        "Authorization": f"Bearer {token_for(session, add_user(session, 'boss', 'manager'))}"
    }
    anna = add_customer(session, "Anna Moors", numbers=("+14155550134",))
    dupe = add_customer(session, "Anna M.", numbers=("+14155550135",))
    assert (
        api.post(
            f"/api/customers/{dupe.id}/merge", json={"into": anna.id}, headers=headers
        ).status_code
        == 200
    )
    assert api.delete(f"/api/customers/{anna.id}", headers=headers).status_code in (200, 204)
    page = as_manager.get("/audit").get_data(as_text=True)
    assert [row[1:4] for row in rows(page)] == [
        ["boss", "Erased", f"customer {anna.id} (erased)"],
        ["boss", "Merged", f"customer {dupe.id}"],  # merged away: no record to name
    ]
    assert "Anna" not in "".join(rows(page)[0])  # the trail keeps no personal data


def test_customer_edits_are_logged_by_field_and_named_while_the_customer_exists(
    as_manager, client, session
):
    anna = add_customer(session, "Anna Moors", numbers=("+14155550134",))
    page = as_manager.get(f"/customers/{anna.id}/edit").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {"csrf_token": token, "name": "Anna Moors", "alerts": "Nut allergy", "vip": "on"}
    assert as_manager.post(f"/customers/{anna.id}/edit", data=form).status_code == 302
    page = as_manager.get("/audit").get_data(as_text=True)
    assert rows(page)[0][1:5] == [
        "Maria",
        "Changed a customer",
        "Anna Moors",
        "changed alerts, vip",
    ]
    assert f'<a href="/customers/{anna.id}">Anna Moors</a>' in page


def test_an_empty_trail_says_so(as_manager):
    page = as_manager.get("/audit").get_data(as_text=True)
    assert "Nothing has been exported, erased, merged or anonymised yet." in page


@pytest.mark.parametrize("cursor", ["abc", "-1", "9" * 30])
def test_a_doctored_page_link_is_explained_not_a_crash(as_manager, trail, cursor):
    response = as_manager.get(f"/audit?cursor={cursor}")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "That page link is out of date" in page and 'role="alert"' in page
    assert "Back to the newest" in page


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/audit")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_staff_may_not_read_the_trail(as_staff):
    assert as_staff.get("/audit").status_code == 403
