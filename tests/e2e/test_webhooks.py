"""Outbound webhooks end to end: calls rung through real gunicorn reach a real local receiver,
signed in the Standard Webhooks format and verified with the standardwebhooks library and the
real clock, or as a Slack sentence; an endpoint that accepts and never answers holds nothing
up; a receiver that was down gets the same webhook-id once it is up."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
import requests
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from standardwebhooks import Webhook

from ..factories import add_customer, add_user, token_for
from ..pg import free_port
from ..webhooks.receiver import Receiver
from .browser import callback, ring
from .conftest import server_env
from .server import Server


@pytest.fixture(scope="module")
def hook_server(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One gunicorn for the module, allowed to reach loopback receivers."""
    instance = tmp_path_factory.mktemp("hooks") / "instance"
    env = server_env(module_database_url, instance, CALLERID_WEBHOOK_ALLOW_NETS="127.0.0.1/32")
    live = Server(env, workers=2).start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def db(module_database_url: str) -> Iterator[Session]:
    engine = create_engine(module_database_url)
    with Session(engine, expire_on_commit=False) as session:
        yield session
    engine.dispose()


@pytest.fixture(scope="module")
def boss(db: Session) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(db, add_user(db, 'boss', 'manager'))}"}


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    yield listener.getsockname()[1]
    listener.close()


def wait_for(check, seconds: float = 15.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_calls_reach_the_receivers_signed_and_a_dead_endpoint_holds_nothing_up(
    hook_server, db, boss, silent_port
):
    add_customer(db, "Anna Moors", numbers=("+13125550187",), is_vip=True,
                 salutation="Mrs.", alerts="Peanuts")  # fmt: skip
    pos, chat = Receiver().start(), Receiver().start()
    try:
        api = hook_server.url + "/api/webhooks"
        every = ["call.ringing", "call.ended", "call.missed"]
        signed = requests.post(api, json={"url": pos.url, "event_types": every}, headers=boss)
        secret = signed.json()["secret"]
        requests.post(api, json={"url": chat.url, "format": "slack",
                                 "event_types": ["call.ringing"]}, headers=boss)  # fmt: skip
        requests.post(api, json={"url": f"http://127.0.0.1:{silent_port}/never",
                                 "event_types": every}, headers=boss)  # fmt: skip

        sid = ring(hook_server, "+1 312-555-0187")
        callback(hook_server, sid, "no-answer")
        got = wait_for(lambda: pos.received if len(pos.received) >= 3 else None)
        bodies = {b["type"]: b for b in (Webhook(secret).verify(r.body, r.headers) for r in got)}
        assert sorted(bodies) == ["call.ended", "call.missed", "call.ringing"]
        rang = bodies["call.ringing"]["data"]
        assert rang["call_sid"] == sid and rang["customer"]["name"] == "Anna Moors"
        assert "alerts" not in rang["customer"]  # not ticked
        assert bodies["call.missed"]["data"]["is_missed"] is True
        text = wait_for(lambda: chat.received)[0].body
        assert text.decode() == '{"text": "Mrs. Moors (VIP) is calling +12025550143"}'
    finally:
        pos.stop()
        chat.stop()


def test_a_receiver_that_was_down_gets_the_same_webhook_id_once_up(hook_server, boss):
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    made = requests.post(hook_server.url + "/api/webhooks", headers=boss,
                         json={"url": url, "event_types": ["call.ringing"]}).json()  # fmt: skip
    log = f"{hook_server.url}/api/webhooks/{made['id']}/deliveries"

    def failed_once():  # type: ignore[no-untyped-def]
        rows = requests.get(log, headers=boss).json()["deliveries"]
        return rows if rows and rows[0]["response"] else None

    ring(hook_server)
    (row,) = wait_for(failed_once)
    assert row["status"] == "pending" and row["response"].startswith("no answer")
    receiver = Receiver()
    receiver.start_on(port)
    try:
        requests.post(f"{log}/{row['id']}/resend", headers=boss)
        (got,) = wait_for(lambda: receiver.received)
        assert got.headers["webhook-id"] == row["webhook_id"]
        Webhook(made["secret"]).verify(got.body, got.headers)  # signed afresh, real clock
    finally:
        receiver.stop()
