"""The customer pages: find, read, add, change, merge and erase customers from the browser."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from callerid.db import utcnow
from callerid.models import AuditEntry, Call, Customer, Event, Note, PhoneNumber

from ..factories import add_call, add_customer, add_user

ANNA = "+14155550134"


def token(client) -> str:
    page = client.get("/customers/new").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def post(client, path: str, **data: str):
    return client.post(path, data={"csrf_token": token(client), **data})


def names_in_table(page: str) -> list[str]:
    return re.findall(
        r'<th scope="row" class="customer-table__name">\s*<a href="[^"]+">([^<]+)</a>', page
    )


def announced(session) -> list[dict]:
    """The customer.updated events written so far, oldest first."""
    session.expire_all()
    rows = session.scalars(select(Event).where(Event.kind == "customer.updated").order_by(Event.id))
    return [json.loads(row.data) for row in rows]


@pytest.fixture
def anna(session) -> Customer:
    return add_customer(
        session,
        "Anna Moors",
        numbers=(ANNA,),
        salutation="Mrs.",
        preferred_name="Annie",
        email="anna@example.com",
        tags="regular, terrace",
        notes="Prefers the corner table.",
        preferences="No shellfish.",
        is_vip=True,
        birthday=(utcnow().date() + timedelta(days=3)).replace(year=1980),
        anniversary=date(2010, 6, 1),
    )


def pages_of(customer_id: int) -> list[str]:
    return [
        "/customers",
        "/customers?q=anna&sort=calls&page=1",
        "/customers/new",
        f"/customers/{customer_id}",
        f"/customers/{customer_id}/edit",
        f"/customers/{customer_id}/merge?q=bob",
        f"/customers/{customer_id}/merge/{customer_id + 1}",
        f"/customers/{customer_id}/erase",
    ]


def test_anonymous_visitors_are_sent_to_log_in_from_every_customer_page(client, session, anna):
    add_customer(session, "Bob Lee", numbers=("+13125550187",))
    for path in pages_of(anna.id):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login"), path


def test_staff_are_refused_every_customer_page_and_form(as_staff, session, anna):
    add_customer(session, "Bob Lee", numbers=("+13125550187",))
    for path in pages_of(anna.id):
        assert as_staff.get(path).status_code == 403, path
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', as_staff.get("/").get_data(as_text=True))
    writes = [
        "/customers/new",
        f"/customers/{anna.id}/edit",
        f"/customers/{anna.id}/numbers",
        f"/customers/{anna.id}/numbers/remove",
        f"/customers/{anna.id}/merge/{anna.id + 1}",
        f"/customers/{anna.id}/erase",
    ]
    for path in writes:
        response = as_staff.post(path, data={"csrf_token": csrf.group(1), "name": "X"})
        assert response.status_code == 403, path
    session.expire_all()
    assert session.get(Customer, anna.id).name == "Anna Moors"


def test_a_manager_opens_every_customer_page(as_manager, session, anna):
    add_customer(session, "Bob Lee", numbers=("+13125550187",))
    for path in pages_of(anna.id):
        response = as_manager.get(path)
        assert response.status_code == 200, path
        assert 'aria-current="page">Customers</a>' in response.get_data(as_text=True), path


def test_a_form_posted_without_its_csrf_token_is_refused(as_manager, session, anna):
    response = as_manager.post(f"/customers/{anna.id}/edit", data={"name": "Mallory"})
    assert response.status_code == 403
    session.expire_all()
    assert session.get(Customer, anna.id).name == "Anna Moors"


@pytest.mark.parametrize(
    "q", ["(415) 555-0134", "415.555.0134", "+1 415 555 0134", "0014155550134", "0134", "MOORS"]
)
def test_search_finds_the_customer_by_name_or_a_number_in_any_format(as_manager, session, anna, q):
    add_customer(session, "Bob Lee", numbers=("+13125550187",))
    page = as_manager.get("/customers", query_string={"q": q}).get_data(as_text=True)
    assert names_in_table(page) == ["Anna Moors"]
    assert "1 customer match" in page
    assert "(415) 555-0134" in page  # numbers are shown as people write them


def test_the_directory_marks_vips_and_customers_not_to_greet(as_manager, session, anna):
    add_customer(session, "Carl Quiet", numbers=("+13125550111",), do_not_greet=True)
    page = as_manager.get("/customers").get_data(as_text=True)
    anna_row, carl_row = page.split('class="customer-table__name"')[1:3]
    assert "VIP" in anna_row and "Not greeted by name" not in anna_row
    assert "Not greeted by name" in carl_row and "VIP" not in carl_row
    assert "goes by Annie" in anna_row


@pytest.mark.parametrize(
    "sort, expected",
    [
        ("name", ["Ada", "Bea", "Cy"]),
        ("calls", ["Cy", "Ada", "Bea"]),
        ("last_call", ["Bea", "Cy", "Ada"]),
        ("newest", ["Cy", "Bea", "Ada"]),
    ],
)
def test_the_directory_sorts_by_name_calls_latest_call_and_newest(
    as_manager, session, sort, expected
):
    now = utcnow()
    ada = add_customer(session, "Ada", numbers=("+13125550101",), created_at=now - timedelta(3))
    bea = add_customer(session, "Bea", numbers=("+13125550102",), created_at=now - timedelta(2))
    cy = add_customer(session, "Cy", numbers=("+13125550103",), created_at=now - timedelta(1))
    for customer, days_ago in ((ada, 9), (ada, 8), (bea, 1), (cy, 5), (cy, 4), (cy, 3)):
        add_call(session, customer, at=now - timedelta(days=days_ago))
    page = as_manager.get(f"/customers?sort={sort}").get_data(as_text=True)
    assert names_in_table(page) == expected


def test_pages_of_customers_link_to_each_other_with_the_total(as_manager, session):
    for n in range(30):
        add_customer(session, f"Customer {n:02}", numbers=())
    first = as_manager.get("/customers").get_data(as_text=True)
    assert len(names_in_table(first)) == 25
    assert "30 customers" in first and "showing 1–25" in first
    assert 'href="/customers?sort=name&amp;page=2" aria-current' not in first
    assert 'rel="next" href="/customers?sort=name&amp;page=2"' in first
    second = as_manager.get("/customers?sort=name&page=2").get_data(as_text=True)
    assert names_in_table(second) == [f"Customer {n}" for n in range(25, 30)]
    assert "showing 26–30" in second
    assert re.search(r'page=2" aria-current="page"', second)
    assert 'rel="prev"' in second and 'rel="next"' not in second


def test_a_page_number_that_is_not_one_shows_the_first_page(as_manager, session, anna):
    page = as_manager.get("/customers?page=abc&sort=bogus").get_data(as_text=True)
    assert names_in_table(page) == ["Anna Moors"]


def test_an_empty_directory_says_how_customers_get_there(as_manager):
    page = as_manager.get("/customers").get_data(as_text=True)
    assert "No customers yet." in page
    assert "customers import" in page
    assert 'href="/customers/new"' in page


def test_a_search_without_a_match_says_how_to_search(as_manager, session, anna):
    page = as_manager.get("/customers?q=zelda").get_data(as_text=True)
    assert "Nobody matches “zelda”." in page
    assert "any format" in page
    assert 'href="/customers/new?name=zelda"' in page


def test_the_customer_page_shows_everything_we_know(as_manager, session, anna):
    session.add(PhoneNumber(customer_id=anna.id, number="+442079460958", label="London office"))
    session.add(Note(customer_id=anna.id, body="Asked for a quiet room"))
    session.commit()
    page = as_manager.get(f"/customers/{anna.id}").get_data(as_text=True)
    for text in (
        "Anna Moors",
        "Mrs.",
        "Annie",
        "anna@example.com",
        "regular",
        "terrace",
        "Prefers the corner table.",
        "No shellfish.",
        "Birthday in 3 days",
        "1 June 2010",
        "VIP",
        "“Welcome back, Annie”",
        "(415) 555-0134",
        "+44 20 7946 0958",
        "London office",
        "Asked for a quiet room",
        "Customer since",
        "Last changed",
    ):
        assert text in page, text


def test_the_timeline_shows_each_call_newest_first_with_its_line_status_and_notes(
    as_manager, session, anna
):
    boss = add_user(session, "Maria B", role="manager")
    older = add_call(
        session, anna, at=utcnow() - timedelta(days=3), answered_by="Marco", duration=125
    )
    older.outcome = "booking"
    older.line.label = "Reservations"
    missed = add_call(session, anna, at=utcnow() - timedelta(days=1), status="no-answer")
    missed.is_missed = True
    session.add(Note(call_id=older.id, customer_id=anna.id, author=boss, body="Table for <4>"))
    session.commit()
    page = as_manager.get(f"/customers/{anna.id}").get_data(as_text=True)
    timeline = page.split('<ol class="timeline">')[1].split("</ol>")[0]
    missed_at, older_at = timeline.index("Missed"), timeline.index("Answered")
    assert missed_at < older_at  # newest first
    for text in ("Reservations", "Marco", "2 min 5 s", "Booking", "Table for &lt;4&gt;", "Maria B"):
        assert text in timeline[older_at:], text


def test_a_long_history_pages_through_older_calls_without_repeats(as_manager, session, anna):
    for hours in range(1, 26):
        add_call(session, anna, at=utcnow() - timedelta(hours=hours), answered_by=f"Desk {hours}")
    first = as_manager.get(f"/customers/{anna.id}").get_data(as_text=True)
    older = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = as_manager.get(older).get_data(as_text=True)
    seen = re.findall(r"<dd>(Desk \d+)</dd>", first) + re.findall(r"<dd>(Desk \d+)</dd>", second)
    assert seen == [f"Desk {hours}" for hours in range(1, 26)]
    assert "Back to the newest" in second and 'rel="next"' not in second
    assert as_manager.get(f"/customers/{anna.id}?before=garbage").status_code == 400


def test_an_unknown_customer_is_a_404_page(as_manager):
    response = as_manager.get("/customers/4242")
    assert response.status_code == 404
    assert "No customer #4242" in response.get_data(as_text=True)


def test_an_erased_customer_answers_410_on_every_page(as_manager, session, anna):
    post(as_manager, f"/customers/{anna.id}/erase")
    for path in (f"/customers/{anna.id}", f"/customers/{anna.id}/edit"):
        response = as_manager.get(path)
        assert response.status_code == 410, path
        page = response.get_data(as_text=True)
        assert f"Customer #{anna.id} was erased" in page
        assert "Anna" not in page
    response = post(as_manager, f"/customers/{anna.id}/edit", name="Anna again")
    assert response.status_code == 410


def test_creating_a_customer_stores_numbers_in_e164_and_shows_their_page(as_manager, session):
    response = post(
        as_manager,
        "/customers/new",
        name="Dana Fox",
        salutation="Dr.",
        numbers="(312) 555-0187\n+44 20 7946 0958",
        tags="wine, regular",
        birthday="1975-04-02",
        vip="on",
    )
    assert response.status_code == 302
    dana = session.scalar(select(Customer).where(Customer.name == "Dana Fox"))
    assert response.headers["Location"] == f"/customers/{dana.id}"
    assert [n.number for n in dana.numbers] == ["+13125550187", "+442079460958"]
    assert (dana.salutation, dana.tags, dana.is_vip, dana.do_not_greet) == (
        "Dr.",
        "wine, regular",
        True,
        False,
    )
    page = as_manager.get(response.headers["Location"]).get_data(as_text=True)
    assert "Added Dana Fox." in page


def test_a_rejected_form_keeps_everything_typed_and_says_what_is_wrong(as_manager, session):
    response = post(
        as_manager,
        "/customers/new",
        name="Dana Fox",
        email="dana at home",
        preferred_name="D" * 101,
        numbers="(312) 555-0187\n12345",
        notes="Line one\nline two",
        vip="on",
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Nothing was saved" in page
    assert "Preferred name has at most 100 characters." in page
    assert "&#39;dana at home&#39; is not an email address." in page
    assert "&#39;12345&#39; is not a usable number" in page
    assert 'value="Dana Fox"' in page and 'value="dana at home"' in page
    assert ">(312) 555-0187\n12345</textarea>" in page
    assert ">Line one\nline two</textarea>" in page
    assert re.search(r'name="vip" value="on" checked', page)
    assert 'aria-invalid="true"' in page and 'aria-describedby="error-email"' in page
    assert session.scalars(select(Customer)).all() == []


def test_a_customer_needs_a_name_or_a_number(as_manager, session):
    response = post(as_manager, "/customers/new", name="  ", numbers="")
    assert response.status_code == 400
    assert "Give a name, a phone number, or both." in response.get_data(as_text=True)
    assert session.scalars(select(Customer)).all() == []


@pytest.mark.parametrize("path", ["/customers", "/customers/{id}", "/customers/{id}/edit"])
def test_customer_text_is_shown_escaped(as_manager, session, path):
    evil = add_customer(
        session, "<script>alert(1)</script>", numbers=(ANNA,), notes="<img src=x onerror=alert(2)>"
    )
    page = as_manager.get(path.format(id=evil.id)).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page


def test_a_script_typed_as_a_name_is_saved_as_text_and_shown_escaped(as_manager, session):
    response = post(as_manager, "/customers/new", name="<script>alert(1)</script>", numbers=ANNA)
    page = as_manager.get(response.headers["Location"]).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "Added &lt;script&gt;alert(1)&lt;/script&gt;." in page


def test_editing_changes_the_fields_and_toggles_vip_and_do_not_greet(as_manager, session, anna):
    form = as_manager.get(f"/customers/{anna.id}/edit").get_data(as_text=True)
    assert 'value="Annie"' in form and re.search(r'name="vip" value="on" checked', form)
    response = post(
        as_manager,
        f"/customers/{anna.id}/edit",
        name="Anna Moors",
        salutation="Dr.",
        preferred_name="Ann",
        email="",
        tags="terrace",
        birthday="",
        anniversary="2011-07-02",
        notes="Corner table",
        preferences="",
        do_not_greet="on",
        do_not_contact="on",
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/customers/{anna.id}"
    session.expire_all()
    anna = session.get(Customer, anna.id)
    assert (anna.salutation, anna.preferred_name, anna.email, anna.tags) == (
        "Dr.",
        "Ann",
        "",
        "terrace",
    )
    assert (anna.birthday, anna.anniversary) == (None, date(2011, 7, 2))
    assert (anna.is_vip, anna.do_not_greet, anna.do_not_contact) == (False, True, True)
    assert [n.number for n in anna.numbers] == [ANNA]  # the form does not touch numbers
    page = as_manager.get(f"/customers/{anna.id}").get_data(as_text=True)
    assert "Saved." in page and "“Thank you for calling”" in page
    assert "Do not contact: no call-back button, no missed-call text" in page
    form = as_manager.get(f"/customers/{anna.id}/edit").get_data(as_text=True)
    assert re.search(r'name="do_not_contact" value="on"[^>]* checked', form)


def test_a_rejected_edit_changes_nothing_and_keeps_what_was_typed(as_manager, session, anna):
    response = post(
        as_manager,
        f"/customers/{anna.id}/edit",
        name="Anna Moors",
        preferred_name="Nan",
        birthday="17/05/1980",
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Birthday must be a date like 1980-05-17, or left empty." in page
    assert 'value="Nan"' in page and 'value="17/05/1980"' in page
    session.expire_all()
    assert session.get(Customer, anna.id).preferred_name == "Annie"


def test_a_number_added_in_a_local_format_is_stored_in_e164_with_its_label(
    as_manager, session, anna
):
    response = post(
        as_manager, f"/customers/{anna.id}/numbers", number="312.555.0187", label="work"
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/customers/{anna.id}#numbers"
    session.expire_all()
    numbers = [(n.number, n.label) for n in session.get(Customer, anna.id).numbers]
    assert numbers == [(ANNA, ""), ("+13125550187", "work")]
    assert "Added (312) 555-0187." in as_manager.get(f"/customers/{anna.id}").get_data(as_text=True)


def test_an_invalid_number_is_refused_with_a_clear_message(as_manager, session, anna):
    response = post(as_manager, f"/customers/{anna.id}/numbers", number="555-01", label="cell")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "&#39;555-01&#39; is not a usable number" in page
    assert 'value="555-01"' in page and 'value="cell"' in page
    session.expire_all()
    assert [n.number for n in session.get(Customer, anna.id).numbers] == [ANNA]


def test_removing_a_number(as_manager, session, anna):
    session.add(PhoneNumber(customer_id=anna.id, number="+13125550187"))
    session.commit()
    response = post(as_manager, f"/customers/{anna.id}/numbers/remove", number=ANNA)
    assert response.status_code == 302
    session.expire_all()
    assert [n.number for n in session.get(Customer, anna.id).numbers] == ["+13125550187"]
    assert "Removed (415) 555-0134." in as_manager.get(f"/customers/{anna.id}").get_data(
        as_text=True
    )


def test_the_last_number_of_a_nameless_customer_stays(as_manager, session):
    nameless = add_customer(session, "", numbers=(ANNA,))
    post(as_manager, f"/customers/{nameless.id}/numbers/remove", number=ANNA)
    session.expire_all()
    assert [n.number for n in session.get(Customer, nameless.id).numbers] == [ANNA]
    page = as_manager.get(f"/customers/{nameless.id}").get_data(as_text=True)
    assert "give the customer a name first" in page


def test_the_merge_search_lists_other_records_by_name_or_number(as_manager, session, anna):
    add_customer(session, "A. Moors", numbers=("+13125550187",))
    page = as_manager.get(f"/customers/{anna.id}/merge?q=312 555 0187").get_data(as_text=True)
    assert "A. Moors" in page
    assert f"/customers/{anna.id}/merge/{anna.id}" not in page  # never itself
    page = as_manager.get(f"/customers/{anna.id}/merge?q=Moors").get_data(as_text=True)
    assert "A. Moors" in page and f'/customers/{anna.id}/merge/{anna.id}"' not in page


def test_the_merge_confirmation_shows_both_and_what_moves(as_manager, session, anna):
    dup = add_customer(
        session,
        "A. Moors",
        numbers=("+13125550187", ANNA),
        email="a@moors.org",
        preferences="Sparkling water",
        alerts="Peanut allergy",
    )
    add_call(session, dup)
    add_call(session, dup)
    session.add(Note(customer_id=dup.id, body="Duplicate's note"))
    session.commit()
    page = as_manager.get(f"/customers/{anna.id}/merge/{dup.id}").get_data(as_text=True)
    assert "Anna Moors" in page and "A. Moors" in page and "a@moors.org" in page
    # Everything the merge combines is in the preview, preferences and alerts too.
    assert '<dt>Preferences</dt><dd class="text-block">Sparkling water</dd>' in page
    assert '<dt>Alerts</dt><dd class="text-block">Peanut allergy</dd>' in page
    assert "1 number: (312) 555-0187" in page
    assert "; (415) 555-0134 already on both" in page
    assert "2 calls, with their outcomes" in page and "1 note, on their calls" in page
    assert f'action="/customers/{anna.id}/merge/{dup.id}"' in page
    assert f'href="/customers/{dup.id}/merge/{anna.id}"' in page  # keep the other one instead
    session.expire_all()
    assert session.get(Customer, dup.id) is not None  # looking changes nothing


def test_merging_through_the_page_keeps_numbers_calls_and_notes(as_manager, session, anna):
    dup = add_customer(session, "A. Moors", numbers=("+13125550187",), notes="Allergic to nuts")
    call = add_call(session, dup)
    session.add(Note(call_id=call.id, customer_id=dup.id, body="Booked for six"))
    session.commit()
    dup_id, call_id = dup.id, call.id
    response = post(as_manager, f"/customers/{anna.id}/merge/{dup_id}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/customers/{anna.id}"
    session.expire_all()
    assert session.get(Customer, dup_id) is None
    survivor = session.get(Customer, anna.id)
    assert [n.number for n in survivor.numbers] == [ANNA, "+13125550187"]
    assert session.get(Call, call_id).customer_id == anna.id
    assert "Allergic to nuts" in survivor.notes
    entry = session.scalar(select(AuditEntry))
    assert (entry.action, entry.target, entry.actor) == ("merge", f"customer {dup_id}", "Maria")
    page = as_manager.get(f"/customers/{anna.id}").get_data(as_text=True)
    assert f"Merged customer #{dup_id} into this record: 1 number, 1 call and 1 note moved." in page
    assert "Booked for six" in page


def test_erasing_through_the_page_removes_personal_data_and_keeps_calls(as_manager, session, anna):
    call = add_call(session, anna)
    session.add(Note(call_id=call.id, customer_id=anna.id, body="Birthday dinner"))
    session.commit()
    confirm = as_manager.get(f"/customers/{anna.id}/erase").get_data(as_text=True)
    assert "cannot be undone" in confirm and "Kept, without them" in confirm
    response = post(as_manager, f"/customers/{anna.id}/erase")
    assert response.status_code == 302
    assert response.headers["Location"] == "/customers"
    session.expire_all()
    shell = session.get(Customer, anna.id)
    assert shell.erased_at is not None and shell.name == "" and shell.numbers == []
    kept = session.get(Call, call.id)
    assert (kept.customer_id, kept.from_number) == (None, None)
    assert session.scalars(select(Note)).all() == []
    entry = session.scalar(select(AuditEntry))
    assert (entry.action, entry.target) == ("erase", f"customer {anna.id}")
    page = as_manager.get("/customers").get_data(as_text=True)
    assert f"Customer #{anna.id} was erased: 1 call anonymised, 1 note deleted." in page
    assert "Anna" not in page


# Open screens: every change announces customer.updated with the board's fresh cards.


def on_the_board(session, customer) -> Call:
    """A call an hour ago, so the board still shows its card."""
    return add_call(session, customer, at=utcnow() - timedelta(hours=1))


def test_an_edit_on_the_page_announces_the_customer_with_fresh_cards(as_manager, session, anna):
    call = on_the_board(session, anna)
    post(as_manager, f"/customers/{anna.id}/edit", name="Anna Moors", preferred_name="Nan")
    (event,) = announced(session)
    assert event["customer_id"] == anna.id
    assert event["customer"]["preferred_name"] == "Nan"
    (card,) = event["cards"]
    assert (card["call_sid"], card["greeting"]) == (call.call_sid, "Welcome back, Nan")


def test_adding_and_removing_numbers_on_the_page_is_announced(as_manager, session, anna):
    stranger = on_the_board(session, None)  # a new caller from +13125550187
    post(as_manager, f"/customers/{anna.id}/numbers", number="(312) 555-0187")
    post(as_manager, f"/customers/{anna.id}/numbers/remove", number="+13125550187")
    added, removed = announced(session)
    assert [c["call_sid"] for c in added["cards"]] == [stranger.call_sid]
    assert added["cards"][0]["customer"]["name"] == "Anna Moors"  # their card knows them now
    assert removed["customer"]["numbers"] == [ANNA]


def test_a_merge_on_the_page_is_announced_for_the_survivor_with_the_merged_cards(
    as_manager, session, anna
):
    dup = add_customer(session, "A. Moors", numbers=("+13125550187",))
    call = on_the_board(session, dup)
    post(as_manager, f"/customers/{anna.id}/merge/{dup.id}")
    (event,) = announced(session)
    assert event["customer_id"] == anna.id
    assert [c["call_sid"] for c in event["cards"]] == [call.call_sid]
    assert event["cards"][0]["customer"]["id"] == anna.id


def test_an_erase_on_the_page_is_announced_without_any_personal_data(as_manager, session, anna):
    call = on_the_board(session, anna)
    session.add(Note(call_id=call.id, customer_id=anna.id, body="Birthday dinner"))
    session.commit()
    post(as_manager, f"/customers/{anna.id}/erase")
    (event,) = announced(session)
    assert (event["customer_id"], event["customer"], event["erased"]) == (anna.id, None, True)
    (card,) = event["cards"]
    assert card["call_sid"] == call.call_sid
    assert (card["customer"], card["from"], card["greeting"]) == (
        None,
        None,
        "Thank you for calling",
    )
    text = json.dumps(event)
    for trace in ("Anna", "Moors", "Annie", "0134", "anna@example", "shellfish", "Birthday dinner"):
        assert trace not in text, trace


@pytest.fixture
def api(session) -> dict[str, str]:
    from ..api.conftest import bearer

    return bearer(session, "boss", "manager")


def test_api_changes_are_announced_too(client, session, anna, api):
    on_the_board(session, anna)
    dup = add_customer(session, "A. Moors", numbers=("+13125550187",))
    created = client.post(
        "/api/customers", json={"name": "Dana", "numbers": ["3125550199"]}, headers=api
    )
    assert created.status_code == 201
    client.patch(f"/api/customers/{anna.id}", json={"preferred_name": "Nan"}, headers=api)
    client.post(f"/api/customers/{dup.id}/merge", json={"into": anna.id}, headers=api)
    events = announced(session)
    assert [e["customer_id"] for e in events] == [created.get_json()["id"], anna.id, anna.id]
    assert events[1]["cards"][0]["greeting"] == "Welcome back, Nan"
    assert "+13125550187" in events[2]["customer"]["numbers"]

    client.delete(f"/api/customers/{anna.id}", headers=api)
    # Erasing also deletes the earlier announcements that showed her.
    events = announced(session)
    assert [e["customer_id"] for e in events] == [created.get_json()["id"], anna.id]
    assert events[-1]["erased"] is True and "Moors" not in json.dumps(events[-1])


def test_alerts_show_in_a_labelled_band_and_the_hint_under_the_greeting(as_manager, session):
    response = post(
        as_manager,
        "/customers/new",
        name="Anna Nguyen",
        numbers=ANNA,
        alerts="<b>Severe</b> peanut allergy",
        pronunciation="Nguyen: say 'win'",
    )
    page = as_manager.get(response.headers["Location"]).get_data(as_text=True)
    assert '<span class="alert-band__label">Alert</span>' in page
    assert "&lt;b&gt;Severe&lt;/b&gt; peanut allergy" in page
    assert "Say it: Nguyen: say &#39;win&#39;" in page
    too_long = post(as_manager, "/customers/new", name="Bo", numbers=ANNA, alerts="x" * 301)
    assert too_long.status_code == 400
    assert "Alerts has at most 300 characters." in too_long.get_data(as_text=True)


def test_with_call_backs_on_a_customers_page_calls_them_back_from_their_last_call(
    as_manager, session, app
):
    app.config.update(CALLERID_CALLBACKS=True)
    anna = add_customer(session, "Anna Moors", numbers=("+14155550134",))
    add_call(session, anna, at=utcnow() - timedelta(days=3))
    last = add_call(session, anna, at=utcnow() - timedelta(hours=1))
    page = as_manager.get(f"/customers/{anna.id}").get_data(as_text=True)
    assert f'data-call-back="/api/calls/{last.call_sid}/call-back"' in page


def test_a_customers_page_shows_their_texts_and_their_opt_out(as_manager, session):
    from callerid import texts

    anna = add_customer(session, "Anna Moors", numbers=("+14155550134",))
    add_call(session, anna, status="no-answer", is_missed=True)
    for sid, body in (("SM" + "1" * 32, "Can I book for 8?"), ("SM" + "2" * 32, "STOP")):
        texts.receive(
            session, message_sid=sid, raw_from="+14155550134", raw_to="+12025550143",
            body=body, opt_out_type="", region="US", at=utcnow(),
        )  # fmt: skip
    session.commit()
    page = as_manager.get(f"/customers/{anna.id}").get_data(as_text=True)
    assert "Texts from them" in page and "Can I book for 8?" in page
    assert "opted out of texts on" in page and "(STOP)" in page
    assert "a reply to their missed call of" in page


def test_notes_grown_past_the_limit_do_not_block_changing_another_field(as_manager, session):
    # Imports and merges append notes without a limit, and older imports took any email; the
    # form sends them back unchanged (a browser with CRLF line ends): saving VIP must work.
    notes = "Birthday dinner every May, window table.\n" * 120  # 4,920 characters
    ben = add_customer(session, "Ben Lowe", numbers=(ANNA,), notes=notes, email="n/a")
    response = post(
        as_manager,
        f"/customers/{ben.id}/edit",
        name="Ben Lowe",
        email="n/a",
        notes=notes.replace("\n", "\r\n"),
        vip="on",
    )
    assert response.status_code == 302
    session.expire_all()
    ben = session.get(Customer, ben.id)
    assert (ben.is_vip, ben.notes) == (True, notes)
    response = post(as_manager, f"/customers/{ben.id}/edit", name="Ben Lowe", notes=notes + "x")
    assert response.status_code == 400  # what is typed anew still keeps the limit
