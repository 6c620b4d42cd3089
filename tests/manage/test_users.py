"""GET /users and its forms: add people, reset passwords, deactivate, and their API tokens."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from callerid.db import utcnow
from callerid.models import ApiToken, AuditEntry, User

from ..factories import PASSWORD, add_user, log_in, token_for


def csrf(client: FlaskClient, path: str = "/users") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def post(client: FlaskClient, path: str, **form: str):
    return client.post(path, data={"csrf_token": csrf(client), **form})


def follow(client: FlaskClient, path: str, **form: str) -> str:
    """Post a form as a browser does and return the text of the page it lands on."""
    response = post(client, path, **form)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client.get(response.headers["Location"]).get_data(as_text=True)


def shown_secret(page: str) -> str:
    return re.search(r'<code id="secret-value">([^<]+)</code>', page).group(1)


def user_named(session, name: str) -> User:
    session.expire_all()
    return session.scalar(select(User).where(User.name == name))


def audit_actions(session) -> list[tuple[str, str, str]]:
    session.expire_all()
    rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id))
    return [(row.actor, row.action, row.target) for row in rows]


def can_log_in(app, name: str, password: str) -> bool:
    other = app.test_client()
    page = other.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = other.post("/login", data={"name": name, "password": password, "csrf_token": token})
    return response.status_code == 302


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# Who may come in ------------------------------------------------------------------------------

PAGES = ["/users", "/users/1"]


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_log_in(client, session, path):
    add_user(session, "Maria", role="manager")
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("path", PAGES)
def test_staff_may_not_see_users(as_staff, path):
    assert as_staff.get(path).status_code == 403


def test_staff_may_not_change_users(as_staff, session):
    token = csrf(as_staff, "/")
    response = as_staff.post("/users", data={"csrf_token": token, "name": "x", "role": "manager"})
    assert response.status_code == 403
    assert user_named(session, "x") is None


def test_a_form_without_its_csrf_token_is_refused(as_manager, session):
    response = as_manager.post("/users", data={"name": "mallory", "role": "manager"})
    assert response.status_code == 403
    assert user_named(session, "mallory") is None


# The list -------------------------------------------------------------------------------------


def test_the_list_shows_role_status_last_login_and_live_tokens(as_manager, session):
    desk = add_user(session, "desk")
    token_for(session, desk)
    revoked = token_for(session, desk)
    session.scalar(select(ApiToken).order_by(ApiToken.id.desc())).revoked_at = utcnow()
    session.commit()
    stranger = as_manager.application.test_client()  # no session cookie: the token alone
    assert stranger.get("/api/calls", headers=bearer(revoked)).status_code == 401
    gone = add_user(session, "gone")
    gone.is_active = False
    session.commit()
    page = as_manager.get("/users").get_data(as_text=True)
    rows = {
        re.search(r'users-table__name"[^>]*>([^<]+)<', row).group(1): " ".join(
            re.sub(r"<[^>]+>", " ", row).split()
        )
        for row in re.findall(r"<tr[^>]*>.*?</tr>", page, re.S)
        if "users-table__name" in row
    }
    assert rows["Maria"].startswith("Maria (you) manager active 20")  # she just logged in
    assert rows["desk"] == "desk staff active never 1"
    assert rows["gone"] == "gone staff deactivated never 0"
    assert list(rows) == ["Maria", "desk", "gone"]  # managers first, then by name
    assert re.search(r'href="/users" aria-current="page">Users<', page)


def test_names_are_escaped(as_manager, session):
    add_user(session, "<script>alert(1)</script>")
    page = as_manager.get("/users").get_data(as_text=True)
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    user = user_named(session, "<script>alert(1)</script>")
    detail = as_manager.get(f"/users/{user.id}").get_data(as_text=True)
    assert "<script>alert(1)" not in detail


def test_an_unknown_user_is_not_found(as_manager):
    assert as_manager.get("/users/999").status_code == 404
    assert post(as_manager, "/users/999/deactivate").status_code == 404


# Adding people --------------------------------------------------------------------------------


def test_a_manager_adds_staff_with_a_typed_password_who_can_then_log_in(app, as_manager, session):
    page = follow(as_manager, "/users", name="  Luis ", role="staff", password="tapas-at-noon")
    assert "Added Luis (staff) with the password you typed." in page
    assert user_named(session, "Luis").role == "staff"
    assert can_log_in(app, "Luis", "tapas-at-noon")
    assert ("Maria", "user.create", f"user {user_named(session, 'Luis').id} (Luis)") in (
        audit_actions(session)
    )


def test_without_a_password_a_strong_one_is_generated_and_shown_once(app, as_manager, session):
    response = post(as_manager, "/users", name="Ines", role="manager")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    password = shown_secret(page)
    assert re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", password)
    assert "shown only this once" in page
    assert can_log_in(app, "Ines", password)
    assert user_named(session, "Ines").is_manager
    listing = as_manager.get("/users").get_data(as_text=True)
    assert password not in listing
    assert password not in as_manager.get(f"/users/{user_named(session, 'Ines').id}").get_data(
        as_text=True
    )


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "Maria", "role": "staff", "password": "long-enough"}, "already exists"),
        ({"name": "Ruth", "role": "staff", "password": "short"}, "at least 8 characters"),
        ({"name": "Ruth", "role": "owner", "password": "long-enough"}, "Role must be one of"),
        ({"name": "   ", "role": "staff", "password": "long-enough"}, "A user needs a name"),
    ],
)
def test_a_bad_new_user_is_refused_with_a_clear_message(as_manager, session, form, message):
    page = follow(as_manager, "/users", **form)
    assert message in page
    assert 'class="flash flash--error"' in page
    assert session.scalar(select(User).where(User.name == "Ruth")) is None


# Passwords ------------------------------------------------------------------------------------


def test_a_generated_password_replaces_the_old_one_and_lifts_the_wait(app, as_manager, session):
    desk = add_user(session, "desk")
    for _ in range(5):
        assert not can_log_in(app, "desk", "wrong guess")
    assert not can_log_in(app, "desk", PASSWORD)  # right, but this address must wait
    response = post(as_manager, f"/users/{desk.id}/password")
    password = shown_secret(response.get_data(as_text=True))
    assert response.headers["Cache-Control"] == "no-store"
    assert can_log_in(app, "desk", password)
    assert not can_log_in(app, "desk", PASSWORD)
    assert ("Maria", "user.password_reset", f"user {desk.id} (desk)") in audit_actions(session)


def test_a_typed_password_follows_the_same_rules_as_the_command_line(app, as_manager, session):
    desk = add_user(session, "desk")
    weak = follow(as_manager, f"/users/{desk.id}/password", mode="typed", password="short")
    assert "A password needs at least 8 characters." in weak
    assert can_log_in(app, "desk", PASSWORD)
    empty = follow(as_manager, f"/users/{desk.id}/password", mode="typed", password="")
    assert "Type the new password" in empty
    done = follow(as_manager, f"/users/{desk.id}/password", mode="typed", password="new-and-long")
    assert "desk&#39;s password is changed" in done
    assert can_log_in(app, "desk", "new-and-long")


# Deactivating ---------------------------------------------------------------------------------


def test_a_deactivated_user_is_logged_out_and_cannot_log_in(app, as_manager, session):
    desk = add_user(session, "desk")
    theirs = app.test_client()
    log_in(theirs, "desk")
    assert theirs.get("/").status_code == 200
    page = follow(as_manager, f"/users/{desk.id}/deactivate")
    assert "desk is deactivated" in page
    assert "Reactivate desk" in page
    board = theirs.get("/")
    assert board.status_code == 302 and board.headers["Location"].startswith("/login")
    assert not can_log_in(app, "desk", PASSWORD)
    assert ("Maria", "user.deactivate", f"user {desk.id} (desk)") in audit_actions(session)


def test_a_deactivated_users_token_gets_401_until_reactivated(app, as_manager, session):
    desk = add_user(session, "desk")
    token = token_for(session, desk)
    assert as_manager.get("/api/calls", headers=bearer(token)).status_code == 200
    follow(as_manager, f"/users/{desk.id}/deactivate")
    assert app.test_client().get("/api/calls", headers=bearer(token)).status_code == 401
    page = follow(as_manager, f"/users/{desk.id}/reactivate")
    assert "desk can log in again." in page
    assert app.test_client().get("/api/calls", headers=bearer(token)).status_code == 200
    assert can_log_in(app, "desk", PASSWORD)


def test_a_manager_cannot_deactivate_themself(as_manager, session):
    maria = user_named(session, "Maria")
    page = as_manager.get(f"/users/{maria.id}").get_data(as_text=True)
    assert "Deactivate Maria" not in page
    refused = follow(as_manager, f"/users/{maria.id}/deactivate")
    assert "You cannot deactivate yourself" in refused
    assert user_named(session, "Maria").is_active


def test_the_last_active_manager_cannot_be_deactivated(app, session):
    from callerid.auth import users

    maria = add_user(session, "Maria", role="manager")
    helper = add_user(session, "helper", role="manager")
    helper.is_active = False  # e.g. deactivated a moment ago on another screen
    session.commit()
    with pytest.raises(users.WouldLockOut, match="last active manager"):
        users.deactivate(session, maria, by=helper)
    session.rollback()
    assert user_named(session, "Maria").is_active


def test_a_manager_may_deactivate_another_manager(as_manager, session):
    other = add_user(session, "Olga", role="manager")
    follow(as_manager, f"/users/{other.id}/deactivate")
    assert not user_named(session, "Olga").is_active


# Tokens ---------------------------------------------------------------------------------------


def test_a_new_token_is_shown_once_and_works(app, as_manager, session):
    desk = add_user(session, "desk")
    response = post(as_manager, f"/users/{desk.id}/tokens")
    token = shown_secret(response.get_data(as_text=True))
    assert response.headers["Cache-Control"] == "no-store"
    assert app.test_client().get("/api/calls", headers=bearer(token)).status_code == 200
    page = as_manager.get(f"/users/{desk.id}").get_data(as_text=True)
    assert token not in page
    assert "live" in page
    assert ("Maria", "token.create", f"user {desk.id} (desk)") in audit_actions(session)


def test_a_metrics_token_is_listed_with_its_kind_and_reads_no_api(app, as_manager, session):
    desk = add_user(session, "desk")
    response = post(as_manager, f"/users/{desk.id}/tokens", kind="metrics")
    assert "A new metrics token for desk" in response.get_data(as_text=True)
    token = shown_secret(response.get_data(as_text=True))
    assert app.test_client().get("/api/calls", headers=bearer(token)).status_code == 401
    page = as_manager.get(f"/users/{desk.id}").get_data(as_text=True)
    assert re.search(r"<td>#\d+</td>\s*<td>metrics</td>", page)
    session.expire_all()
    (entry,) = session.scalars(select(AuditEntry).where(AuditEntry.action == "token.create"))
    assert entry.detail.startswith("metrics token ")


def test_a_phone_token_is_made_for_a_named_phone_system_and_listed_with_it(
    app, as_manager, session
):
    desk = add_user(session, "desk")
    response = post(as_manager, f"/users/{desk.id}/tokens", kind="phone", source=" 3CX  Downtown ")
    assert "A new phone token for desk" in response.get_data(as_text=True)
    token = shown_secret(response.get_data(as_text=True))
    stranger = app.test_client()
    assert stranger.get("/api/calls", headers=bearer(token)).status_code == 401
    lookup = stranger.get("/api/phone/lookup?number=%2B14155550134", headers=bearer(token))
    assert lookup.status_code == 200
    page = as_manager.get(f"/users/{desk.id}").get_data(as_text=True)
    assert re.search(r"<td>#\d+</td>\s*<td>phone \(3CX Downtown\)</td>", page)
    session.expire_all()
    (entry,) = session.scalars(select(AuditEntry).where(AuditEntry.action == "token.create"))
    assert entry.detail.endswith(" for 3CX Downtown")


def test_a_phone_systems_name_too_long_makes_no_token(as_manager, session):
    desk = add_user(session, "desk")
    page = follow(as_manager, f"/users/{desk.id}/tokens", kind="phone", source="x" * 81)
    assert "A phone system&#39;s name has at most 80 characters." in page
    session.expire_all()
    assert session.scalars(select(ApiToken)).all() == []


def test_a_token_of_an_unknown_kind_is_not_made(as_manager, session):
    desk = add_user(session, "desk")
    page = follow(as_manager, f"/users/{desk.id}/tokens", kind="admin")
    assert "A token&#39;s kind is one of user, phone, metrics, not &#39;admin&#39;." in page
    session.expire_all()
    assert session.scalars(select(ApiToken)).all() == []


def test_a_revoked_token_gets_401(app, as_manager, session):
    desk = add_user(session, "desk")
    token = token_for(session, desk)
    row = session.scalar(select(ApiToken))
    page = follow(as_manager, f"/users/{desk.id}/tokens/{row.id}/revoke")
    assert f"Token {row.id} of desk is revoked" in page
    assert app.test_client().get("/api/calls", headers=bearer(token)).status_code == 401
    assert ("Maria", "token.revoke", f"user {desk.id} (desk)") in audit_actions(session)
    assert f'Revoke<span class="visually-hidden"> token #{row.id}' not in page


def test_a_token_of_someone_else_cannot_be_revoked_through_another_user(as_manager, session):
    desk, other = add_user(session, "desk"), add_user(session, "other")
    token_for(session, desk)
    row = session.scalar(select(ApiToken))
    assert post(as_manager, f"/users/{other.id}/tokens/{row.id}/revoke").status_code == 404
    session.expire_all()
    assert session.get(ApiToken, row.id).revoked_at is None


def test_the_token_list_shows_when_each_token_was_last_used(app, as_manager, session):
    desk = add_user(session, "desk")
    token = token_for(session, desk)
    before = as_manager.get(f"/users/{desk.id}").get_data(as_text=True)
    assert "never" in before.split("Last used")[1]
    app.test_client().get("/api/calls", headers=bearer(token))
    session.expire_all()
    used = session.scalar(select(ApiToken)).last_used_at
    assert used is not None
    page = as_manager.get(f"/users/{desk.id}").get_data(as_text=True)
    assert f'datetime="{used.isoformat()}"' in page


def test_a_manager_sets_the_phone_a_staff_members_call_backs_ring(as_manager, session):
    sam = add_user(session, "Sam")
    page = follow(as_manager, f"/users/{sam.id}/phone", phone="(202) 555-0111")
    assert "Call-backs by Sam ring +12025550111 first." in page
    assert 'value="+12025550111"' in page
    assert user_named(session, "Sam").phone == "+12025550111"
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "user.phone"))
    assert (entry.actor, entry.detail) == ("Maria", "+12025550111")


def test_a_phone_that_cannot_be_rung_is_refused_in_words(as_manager, session):
    sam = add_user(session, "Sam")
    page = follow(as_manager, f"/users/{sam.id}/phone", phone="12")
    assert "&#39;12&#39; cannot be rung: not a valid number for its country." in page
    assert user_named(session, "Sam").phone == ""


def test_an_empty_phone_rings_the_front_desk(as_manager, session):
    sam = add_user(session, "Sam")
    follow(as_manager, f"/users/{sam.id}/phone", phone="sip:sam@pbx.example.com")
    page = follow(as_manager, f"/users/{sam.id}/phone", phone="")
    assert "Call-backs by Sam ring the front desk first." in page
    assert user_named(session, "Sam").phone == ""


def test_staff_set_the_phone_their_own_call_backs_ring_on_their_account(as_staff, session):
    page = follow(as_staff, "/account/phone", phone="(202) 555-0123")
    assert "Your call-backs ring +12025550123 first." in page
    assert 'value="+12025550123"' in page
    assert user_named(session, "Sam").phone == "+12025550123"
    page = follow(as_staff, "/account/phone", phone="12")
    assert "cannot be rung: not a valid number for its country." in page
    assert user_named(session, "Sam").phone == "+12025550123"  # a refusal changes nothing
