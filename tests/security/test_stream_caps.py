"""Finding 2: one login or token cannot open streams without end; beyond a cap, 429."""

from __future__ import annotations

from contextlib import ExitStack

import pytest

from ..factories import add_user, log_in, token_for
from ..twilio import post_signed, sample

PASSWORD = "correct horse"
# The caps are counted in the process, whatever the database: one engine keeps the suite's time
# (each test's app stops its event follower, a second apiece).
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def capped(app):
    app.config.update(CALLERID_STREAMS_PER_USER=2, CALLERID_STREAMS_TOTAL=3)
    return app


def open_stream(client, streams: ExitStack, **headers: str):
    response = client.get("/events", headers=headers)
    streams.callback(response.close)
    return response


def test_a_login_gets_its_cap_of_streams_then_429_with_retry_after(capped, client, session):
    add_user(session, "desk", "staff", PASSWORD)
    log_in(client, "desk")
    with ExitStack() as streams:
        assert [open_stream(client, streams).status_code for _ in range(2)] == [200, 200]
        refused = open_stream(client, streams)
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "10"
        assert refused.get_json()["error"]["code"] == 429


def test_a_closed_stream_makes_room_for_the_next_screen(capped, client, session):
    add_user(session, "desk", "staff", PASSWORD)
    log_in(client, "desk")
    with ExitStack() as streams:
        first = open_stream(client, streams)
        open_stream(client, streams)
        first.close()
        assert open_stream(client, streams).status_code == 200


def test_a_token_has_its_own_cap_and_counts_against_its_user(capped, client, session):
    script = add_user(session, "script", "staff", PASSWORD)
    token = {"Authorization": f"Bearer {token_for(session, script)}"}
    other = {"Authorization": f"Bearer {token_for(session, script)}"}
    with ExitStack() as streams:
        assert open_stream(client, streams, **token).status_code == 200
        assert open_stream(client, streams, **other).status_code == 200
        # Two tokens of one user: the user's cap is full, whichever token asks.
        assert open_stream(client, streams, **token).status_code == 429


def test_the_total_cap_refuses_streams_and_webhooks_are_still_answered(capped, app, session):
    for name in ("anna", "ben"):
        add_user(session, name, "staff", PASSWORD)
    anna, ben = app.test_client(), app.test_client()
    log_in(anna, "anna")
    log_in(ben, "ben")
    with ExitStack() as streams:
        statuses = [open_stream(c, streams).status_code for c in (anna, anna, ben, ben)]
        assert statuses == [200, 200, 200, 429]
        webhook = post_signed(app.test_client(), "/twilio/voice", sample("voice-inbound-us"))
        assert webhook.status_code == 200
