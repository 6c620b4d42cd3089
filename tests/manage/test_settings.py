"""The settings page (/settings) and ``business_settings.save`` behind it: what the missed-call
text and the whisper say, every change checked and audited."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from callerid import business_settings, db
from callerid.db import utcnow
from callerid.models import AuditEntry, Setting, TextSent

from ..factories import add_customer, add_user

XSS = "<img src=x onerror=alert(2)>"


def csrf(client) -> str:
    page = client.get("/settings").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def form(**changes: str) -> dict[str, str]:
    """The page's form as a browser sends it with the defaults shown: ticked boxes only."""
    values = {
        key: str(value)
        for key, value in vars(business_settings.DEFAULTS).items()
        if not isinstance(value, bool)
    }
    ticked = {key: "on" for key in business_settings.FLAGS if vars(business_settings.DEFAULTS)[key]}
    return {**values, **ticked, **changes}


def test_save_writes_only_what_changed_and_audits_each_change_old_to_new(session):
    maria = add_user(session, "Maria", role="manager")
    changed = business_settings.save(
        session,
        {
            "daily_cap": "20",
            "whisper_vip": False,
            "quiet_start": "21:00",
            "business_name": " Olive ",
        },
        by=maria,
    )
    session.commit()
    assert changed == ["business_name", "daily_cap", "whisper_vip"]  # quiet_start was 21:00
    saved = business_settings.load(session)
    assert (saved.daily_cap, saved.whisper_vip, saved.business_name) == (20, False, "Olive")
    trail = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.target, e.detail, e.actor) for e in trail] == [
        ("settings.update", "setting business_name", '"" -> "Olive"', "Maria"),
        ("settings.update", "setting daily_cap", "50 -> 20", "Maria"),
        ("settings.update", "setting whisper_vip", "true -> false", "Maria"),
    ]
    assert business_settings.save(session, {"daily_cap": 20}, by=maria) == []


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_managers_saving_a_new_setting_at_once_both_land(app, session, monkeypatch):
    """On PostgreSQL nothing stops another manager's first save of a setting from committing
    between our read and our write (SQLite takes its write lock first): the later value wins,
    and nobody sees an error."""
    maria = add_user(session, "Maria", role="manager")
    read = business_settings.load

    def read_then_bob_saves(this: object) -> business_settings.BusinessSettings:
        values = read(this)
        monkeypatch.setattr(business_settings, "load", read)  # Bob's own save reads as usual
        with db.new_session(app) as other:
            bob = add_user(other, "Bob", role="manager")
            business_settings.save(other, {"daily_cap": 30}, by=bob)
            other.commit()
        return values

    monkeypatch.setattr(business_settings, "load", read_then_bob_saves)
    assert business_settings.save(session, {"daily_cap": 25}, by=maria) == ["daily_cap"]
    session.commit()
    monkeypatch.undo()
    assert business_settings.load(session).daily_cap == 25


@pytest.mark.parametrize(
    ("key", "value", "said"),
    [
        ("text_template", "Hi {first_name}", "Unknown placeholder {first_name}"),
        ("text_template", "Hi {name", "A brace in the text is not closed"),
        ("text_template", "x" * 321, "321 characters; 320 at most"),
        ("text_template", "  ", "cannot be empty"),
        ("booking_link", "javascript:alert(1)", "starting with https://"),
        ("quiet_end", "9:00", "HH:MM"),
        ("quiet_start", "24:00", "HH:MM"),
        ("daily_cap", "0", "from 1 to 1,000"),
        ("cooldown_hours", "-3", "from 1 to 720"),
        ("text_delay_minutes", 61, "from 1 to 60"),
        ("whisper_alerts", "yes", "on or off"),
        ("colour", "blue", "no setting called 'colour'"),
    ],
)
def test_a_wrong_value_is_refused_in_words(key, value, said):
    with pytest.raises(business_settings.InvalidSettings) as refused:
        business_settings.validate({key: value})
    assert said in refused.value.errors[key]


def test_a_manager_saves_the_page_and_sees_what_changed(as_manager, session):
    page = as_manager.get("/settings").get_data(as_text=True)
    assert '<a class="nav__link" href="/settings" aria-current="page">Settings' in page
    assert "Hi Anna, sorry we missed your call at" in page  # the example of the default text
    assert "{business} says nothing: the business name is empty." in page
    assert 'data-switch="CALLERID_TEXT_BACK"' in page
    response = as_manager.post(
        "/settings",
        data=form(
            csrf_token=csrf(as_manager),
            business_name="Trattoria Olive",
            booking_link="https://olive.example/book",
            daily_cap="25",
            whisper_last_call="",  # unticked: a browser leaves it out
        )
        | {"action": "save"},
    )
    assert response.status_code == 302
    page = as_manager.get("/settings").get_data(as_text=True)
    assert "Saved: Business name, Booking link, Daily cap, Whisper last call." in page
    assert "sorry we missed your call at Trattoria Olive. We will call you back soon. " \
        "To book: https://olive.example/book" in page  # fmt: skip
    saved = business_settings.load(session)
    assert (saved.daily_cap, saved.whisper_last_call) == (25, False)


def test_errors_stand_beside_their_fields_and_nothing_is_saved(as_manager, session):
    response = as_manager.post(
        "/settings",
        data=form(csrf_token=csrf(as_manager), text_template="Hi{name} {when}", quiet_end="nine",
                  business_name=XSS, action="save"),
    )  # fmt: skip
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Nothing was saved" in page
    assert re.search(r'id="setting-quiet_end"[^>]*aria-describedby="hint-quiet_end error-quiet_end"'
                     r'[^>]*aria-invalid="true"', page)  # fmt: skip
    said = "Unknown placeholder {when} in the text: use only {business}, {name}, {booking_link}."
    assert f'<p class="field__error" id="error-text_template">{said}</p>' in page
    assert f'<a href="#setting-text_template">{said}</a>' in page  # the summary leads there
    assert 'value="nine"' in page  # kept as typed
    assert XSS not in page and "&lt;img src=x onerror=alert(2)&gt;" in page
    assert session.scalars(select(AuditEntry)).all() == []
    assert business_settings.load(session) == business_settings.DEFAULTS


def test_preview_shows_the_typed_text_escaped_and_saves_nothing(as_manager, session):
    response = as_manager.post(
        "/settings",
        data=form(csrf_token=csrf(as_manager), text_template=f"{XSS} at {{business}}",
                  business_name="Olive", action="preview"),
    )  # fmt: skip
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    preview = re.search(r'id="settings-preview"[^>]*>([^<]*)</p>', page).group(1)
    assert preview == "&lt;img src=x onerror=alert(2)&gt; at Olive"
    assert business_settings.load(session) == business_settings.DEFAULTS


def test_texts_that_did_not_get_through_are_listed_in_words(as_manager, session):
    customer = add_customer(session, XSS, numbers=("+13125550187",))
    session.add_all([
        TextSent(number="+13125550187", customer=customer, status="failed", error_code=21610,
                 error="The number has unsubscribed (replied STOP).", due_at=utcnow()),
        TextSent(number="+14155550134", status="delivered", due_at=utcnow()),
    ])  # fmt: skip
    session.commit()
    page = as_manager.get("/settings").get_data(as_text=True)
    table = page[page.index('id="text-problems"') :]
    assert "The number has unsubscribed (replied STOP)." in table and "(21610)" in table
    assert "(312) 555-0187" in table and "(415) 555-0134" not in table
    assert XSS not in page and "&lt;img src=x onerror=alert(2)&gt;" in table


def test_staff_may_neither_see_nor_change_settings(as_staff, session):
    assert as_staff.get("/settings").status_code == 403
    page = as_staff.get("/account").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert as_staff.post("/settings", data=form(csrf_token=token, daily_cap="1")).status_code == 403
    assert ">Settings<" not in page  # not in a staff member's navigation
    assert business_settings.load(session) == business_settings.DEFAULTS


def test_the_page_says_when_todays_texts_reached_the_daily_cap(as_manager, session):
    business_settings.save(session, {"daily_cap": 2}, by=add_user(session, "Ines", "manager"))
    sent = [
        TextSent(number=f"+1312555018{n}", status="delivered", message_sid=f"SM{n:032x}",
                 due_at=utcnow(), sent_at=utcnow())
        for n in range(2)
    ]  # fmt: skip
    session.add(sent[0])
    session.commit()
    assert 'id="cap-reached"' not in as_manager.get("/settings").get_data(as_text=True)
    session.add(sent[1])
    session.commit()
    page = as_manager.get("/settings").get_data(as_text=True)
    assert "Today's texts reached the daily cap of 2: missed callers are not texted" in page


def test_a_setting_edited_by_hand_into_nonsense_falls_back_to_its_default(as_manager, session):
    session.add_all([
        Setting(key="daily_cap", value='"lots"'),
        Setting(key="quiet_start", value='"25:00"'),
        Setting(key="booking_link", value="not json"),
        Setting(key="cooldown_hours", value="12"),
    ])  # fmt: skip
    session.commit()
    loaded = business_settings.load(session)
    defaults = business_settings.DEFAULTS
    assert (loaded.daily_cap, loaded.quiet_start, loaded.booking_link, loaded.cooldown_hours) == (
        defaults.daily_cap,
        defaults.quiet_start,
        defaults.booking_link,
        12,
    )
    assert as_manager.get("/settings").status_code == 200
