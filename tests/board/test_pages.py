"""The board and login pages: who may see them, and the headers that keep them safe."""

from __future__ import annotations

import re

import pytest

from ..factories import PASSWORD, add_user, log_in

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def test_anonymous_visitors_of_the_board_are_sent_to_log_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/"


def test_the_boards_data_needs_a_login(client):
    response = client.get("/board/live", headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == 401


@pytest.mark.parametrize("path", ["/login", "/", "/no-such-page"])
def test_every_page_carries_the_security_headers(client, desk, path):
    response = client.get(path)
    assert response.headers["Content-Security-Policy"] == CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("path", ["/login", "/", "/no-such-page"])
def test_pages_have_no_inline_script_or_style(client, desk, path):
    page = client.get(path).get_data(as_text=True)
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []
    assert re.findall(r"\sstyle\s*=", page) == []
    assert re.findall(r"\son[a-z]+\s*=", page) == []
    assert "<style" not in page


def test_the_board_page_loads_its_script_as_a_module(client, desk):
    page = client.get("/").get_data(as_text=True)
    script = re.search(r'<script type="module" src="([^"]+)">', page).group(1)
    response = client.get(script)
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"


def test_a_wrong_password_says_so_and_keeps_the_name(client, session):
    add_user(session, "Anna", password=PASSWORD)
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"name": "Anna", "password": "nope", "csrf_token": token})
    assert response.status_code == 401
    text = response.get_data(as_text=True)
    assert "That name and password do not match." in text
    assert 'value="Anna"' in text


def test_a_login_form_without_its_token_asks_again(client, session):
    add_user(session, "Anna", password=PASSWORD)
    response = client.post("/login", data={"name": "Anna", "password": PASSWORD})
    assert response.status_code == 400
    assert "Please log in again." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still logged out


@pytest.mark.parametrize(
    "next_url, lands_on",
    [
        ("/?screen=bar", "/?screen=bar"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example/", "/"),
        ("/\t/evil.example/", "/"),
    ],
)
def test_login_only_returns_to_pages_on_this_site(client, session, next_url, lands_on):
    add_user(session, "Anna", password=PASSWORD)
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {"name": "Anna", "password": PASSWORD, "csrf_token": token, "next": next_url}
    response = client.post("/login", data=form)
    assert response.headers["Location"] == lands_on


def test_logout_is_a_form_post_that_ends_the_session(client, session):
    add_user(session, "Anna", password=PASSWORD)
    log_in(client, "Anna")
    page = client.get("/").get_data(as_text=True)
    assert re.search(r'<form class="account__logout" method="post" action="/logout">', page)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302
