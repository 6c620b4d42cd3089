"""GET /missed (staff and managers): missed calls per caller, the "Called back" button, the
recently called back, and the count beside "Missed calls" in the top bar."""

from __future__ import annotations

import re
from datetime import UTC, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from callerid.db import utcnow
from callerid.models import Call, Event

from ..factories import add_call, add_customer

STRANGER = "+13125550187"


def missed(session, customer=None, *, minutes: float, **fields):
    return add_call(
        session,
        customer,
        at=utcnow() - timedelta(minutes=minutes),
        status="no-answer",
        is_missed=True,
        **fields,
    )


@pytest.fixture
def waiting(session):
    """Anna (a customer) tried twice on the Events line, a stranger once; Ben was called back."""
    anna = add_customer(session, "Anna Moors")
    ben = add_customer(session, "Ben Okafor", numbers=("+14155550177",))
    made = {
        "anna_old": missed(session, anna, minutes=90),
        "anna_new": missed(session, anna, minutes=20, line="+12025550144"),
        "stranger": missed(session, from_number=STRANGER, minutes=45),
        "ben": missed(session, ben, minutes=300),
        # Nobody can call a withheld number back: not waiting, not listed, not counted.
        "withheld": missed(session, minutes=10, caller_kind="withheld"),
    }
    made["withheld"].from_number, made["withheld"].raw_from = None, "anonymous"
    made["anna_new"].line.label = "Events"
    made["ben"].called_back_at = utcnow() - timedelta(hours=2)
    made["ben"].called_back_by = "Maria"
    add_call(session, anna, at=utcnow() - timedelta(minutes=5))  # answered: nothing to return
    session.commit()
    return made


def items(page: str) -> list[tuple[str, str]]:
    """(CallSid, text) of each caller on the page, in order."""
    found = re.findall(r'<li class="missed__item" data-call-sid="([^"]+)">(.*?)</li>', page, re.S)
    return [(sid, " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())) for sid, body in found]


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def nav_count(page: str) -> str | None:
    badge = re.search(
        r'<span class="nav__count"[^>]*?( hidden)?><span data-missed-number>(\d+)<', page
    )
    if badge is None:
        return None
    return None if badge.group(1) else badge.group(2)


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/missed")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("who", ["as_staff", "as_manager"])
def test_staff_and_managers_see_callers_to_call_back_latest_first(request, waiting, who):
    client = request.getfixturevalue(who)
    response = client.get("/missed?tz=UTC")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    shown = items(page)
    assert [sid for sid, _ in shown] == [waiting["anna_new"].call_sid, waiting["stranger"].call_sid]
    anna, stranger = shown[0][1], shown[1][1]
    last = waiting["anna_new"].received_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    assert anna.startswith("Anna Moors (415) 555-0134")
    assert f"Tried 2 times Last try {last} Line Events" in anna
    assert 'aria-label="Called back: Anna Moors">Called back</button>' in page
    assert stranger.startswith("(312) 555-0187 New caller Call (312) 555-0187 Tried 1 time")
    assert "Ben Okafor" not in page
    assert 'aria-current="page"' in page
    assert nav_count(page) == "2"  # callers, as the list shows them: one row each


def test_calling_back_marks_every_open_call_of_that_caller(as_staff, session, waiting):
    page = as_staff.get("/missed?tz=UTC").get_data(as_text=True)
    call_sid = waiting["anna_new"].call_sid
    response = as_staff.post(
        f"/missed/{call_sid}/called-back", data={"csrf_token": csrf(page), "tz": "UTC"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/missed?tz=UTC"
    after = as_staff.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r'role="alert">Anna Moors: marked called back by Sam\.<', after)
    assert [sid for sid, _ in items(after)] == [waiting["stranger"].call_sid]
    assert nav_count(after) == "1"
    session.expire_all()
    calls = session.scalars(select(Call).where(Call.customer_id == waiting["anna_new"].customer_id))
    assert {(c.called_back_by, c.called_back_at is not None) for c in calls if c.is_missed} == {
        ("Sam", True)
    }
    event = session.scalars(select(Event).order_by(Event.id.desc())).first()
    assert event.kind == "call.called_back"


def test_recently_called_back_callers_show_who_and_when(as_manager, session, waiting):
    page = as_manager.get("/missed?tz=UTC").get_data(as_text=True)
    as_manager.post(
        f"/missed/{waiting['stranger'].call_sid}/called-back",
        data={"csrf_token": csrf(page), "tz": "UTC", "show": "called-back"},
    )
    page = as_manager.get("/missed?tz=UTC&show=called-back").get_data(as_text=True)
    assert "Called back in the last 24 hours" in page
    done = page[page.index("Called back in the last 24 hours") :]
    shown = items(done)
    assert [sid for sid, _ in shown] == [waiting["stranger"].call_sid, waiting["ben"].call_sid]
    session.expire_all()
    stranger = session.get(Call, waiting["stranger"].id)
    at = stranger.called_back_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    assert shown[0][1].endswith(f"Called back by Maria, {at} Undo")
    assert "Called back by Maria" in shown[1][1]
    assert "Hide the ones called back" in page
    assert "Called back in the last 24 hours" not in as_manager.get("/missed").get_data(
        as_text=True
    )


def test_a_form_without_its_csrf_token_marks_nothing(as_staff, session, waiting):
    response = as_staff.post(f"/missed/{waiting['stranger'].call_sid}/called-back", data={})
    assert response.status_code == 403
    session.expire_all()
    assert session.get(Call, waiting["stranger"].id).called_back_at is None


def test_an_answered_or_unknown_call_says_so(as_staff, session):
    answered = add_call(session, None)
    page = as_staff.get("/missed").get_data(as_text=True)
    token = csrf(page)
    response = as_staff.post(f"/missed/{answered.call_sid}/called-back", data={"csrf_token": token})
    assert response.status_code == 302
    text = as_staff.get("/missed").get_data(as_text=True)
    assert "That call was answered: there is nothing to call back." in text
    as_staff.post("/missed/CAnope/called-back", data={"csrf_token": token})
    assert "nothing was marked" in as_staff.get("/missed").get_data(as_text=True)


def test_nothing_waiting_says_so_and_hides_the_count(as_staff):
    page = as_staff.get("/missed").get_data(as_text=True)
    assert re.search(r'role="status">No missed calls waiting\.<', page)
    assert nav_count(page) is None
    assert "data-missed-count" in page, "the board can still show the count when a call is missed"


def test_times_are_in_the_zone_asked_for(as_staff, session):
    call = missed(session, minutes=60)
    local = call.received_at.astimezone(ZoneInfo("Asia/Tokyo"))
    page = as_staff.get("/missed?tz=Asia/Tokyo").get_data(as_text=True)
    assert local.strftime("%Y-%m-%d %H:%M") in page
    assert "Times in Asia/Tokyo" in page


def test_the_count_shows_on_every_page_for_staff_and_managers(as_manager, session, waiting):
    for path in ("/", "/calls", "/missed"):
        assert nav_count(as_manager.get(path).get_data(as_text=True)) == "2"


def test_customer_names_are_escaped(as_staff, session):
    evil = add_customer(session, "<img src=x onerror=alert(2)>", numbers=("+14155550190",))
    missed(session, evil, minutes=3)
    page = as_staff.get("/missed").get_data(as_text=True)
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(2)&gt;" in page


def test_a_caller_marked_called_back_by_mistake_is_put_back_on_the_list(as_staff, waiting):
    page = as_staff.get("/missed?tz=UTC").get_data(as_text=True)
    call_sid = waiting["anna_new"].call_sid
    as_staff.post(f"/missed/{call_sid}/called-back", data={"csrf_token": csrf(page), "tz": "UTC"})
    done = as_staff.get("/missed?tz=UTC&show=called-back").get_data(as_text=True)
    assert 'aria-label="Undo called back: Anna Moors">Undo</button>' in done
    undone = as_staff.post(
        f"/missed/{call_sid}/called-back/undo",
        data={"csrf_token": csrf(done), "tz": "UTC", "show": "called-back"},
    )
    after = as_staff.get(undone.headers["Location"]).get_data(as_text=True)
    assert "Anna Moors waits to be called back again (2 calls)." in after
    assert [sid for sid, _ in items(after)][0] == call_sid


def test_with_call_backs_on_each_caller_with_a_number_has_a_call_back_button(
    as_staff, session, app
):
    app.config.update(CALLERID_CALLBACKS=True)
    anna = add_customer(session, "Anna Moors", numbers=("+14155550134",))
    call = missed(session, anna, minutes=5)
    withheld = missed(session, minutes=3, from_number=None, caller_kind="withheld")
    page = as_staff.get("/missed?tz=UTC").get_data(as_text=True)
    assert f'data-call-back="/api/calls/{call.call_sid}/call-back"' in page
    assert 'aria-label="Call back: Anna Moors"' in page
    assert f"/api/calls/{withheld.call_sid}/call-back" not in page  # nobody to ring


def test_with_call_backs_off_there_is_no_call_back_button(as_staff, session):
    missed(session, add_customer(session, "Anna Moors"), minutes=5)
    assert "data-call-back=" not in as_staff.get("/missed?tz=UTC").get_data(as_text=True)


def test_a_callers_text_since_their_missed_call_shows_on_their_row(as_staff, session):
    from callerid import texts

    anna = add_customer(session, "Anna Moors", numbers=("+14155550134",))
    missed(session, anna, minutes=30)
    texts.receive(
        session, message_sid="SM" + "1" * 32, raw_from="+14155550134", raw_to="+12025550143",
        body="Can I book for 8?", opt_out_type="", region="US", at=utcnow(),
    )  # fmt: skip
    session.commit()
    page = unescape(as_staff.get("/missed?tz=UTC").get_data(as_text=True))
    assert "Texted back" in page and "“Can I book for 8?”" in page
