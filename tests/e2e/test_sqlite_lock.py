"""A gevent worker on SQLite while another process holds the write lock, as a CLI import of a big
file does: waiting for the lock must not freeze the worker's other requests, and what the
database could not take meanwhile is spooled and applied once the lock is gone."""

from __future__ import annotations

import sqlite3
import threading
import time
import xml.etree.ElementTree as ET

import requests

from callerid.cli.database import upgrade
from callerid.telephony.spool import Spool

from ..twilio import sample, status_sequence
from .conftest import post_signed, server_env
from .server import Server


def test_a_held_write_lock_freezes_nothing_and_loses_nothing(tmp_path):
    path = tmp_path / "callerid.sqlite3"
    url = f"sqlite:///{path}"
    upgrade(url)
    # Each webhook waits for the database at most 1.5 x 0.4 s (a callback 5 x) before spooling.
    env = server_env(url, tmp_path / "instance", CALLERID_DB_TIMEOUT="0.4")
    server = Server(env, workers=1).start()
    spool = Spool(tmp_path / "instance" / "spool")
    rings = [
        sample("voice-inbound-us", CallSid=f"CA{n:032x}", From=f"+1312555{n:04d}")
        for n in range(1, 5)
    ]
    ended = {**status_sequence()[2], "CallSid": rings[0]["CallSid"], "From": rings[0]["From"]}
    answered: dict[str, float] = {}
    responses: dict[str, requests.Response] = {}

    def send(name: str, path: str, params: dict[str, str]) -> None:
        responses[name] = post_signed(server.url, path, params)
        answered[name] = time.monotonic()

    blocker = sqlite3.connect(path)
    try:
        blocker.execute("BEGIN EXCLUSIVE")
        senders = [
            threading.Thread(target=send, args=(r["CallSid"], "/twilio/voice", r)) for r in rings
        ]
        for sender in senders:
            sender.start()
        time.sleep(0.1)  # the webhooks are waiting for the lock now
        # The load balancer's health checks, one after another, while they wait.
        checks = []
        while any(sender.is_alive() for sender in senders):
            checks.append((requests.get(server.url + "/readyz", timeout=10), time.monotonic()))
        for sender in senders:
            sender.join(10)
        send("ended", "/twilio/status", ended)
        spool_depth_while_locked = spool.depth()
    finally:
        blocker.rollback()
        blocker.close()
    try:
        # The worker kept answering health checks while its webhooks waited for the lock (a
        # worker frozen in SQLite's own busy wait answers one per wait, at best).
        first_answer = min(answered[r["CallSid"]] for r in rings)
        while_waiting = [check for check, at in checks if at < first_answer]
        assert len(while_waiting) >= 5, (len(checks), server.log())
        assert all(check.status_code == 200 for check, _ in checks)
        for ring in rings:
            dial = ET.fromstring(responses[ring["CallSid"]].content).find("Dial")
            assert dial is not None, server.log()
        assert responses["ended"].status_code == 204  # stored: in the spool
        assert spool_depth_while_locked == 5
        # Once the lock is gone, the worker applies the spool: every call, and the end of one.
        with sqlite3.connect(path) as reader:
            deadline = time.monotonic() + 15
            while True:
                rows = dict(reader.execute("SELECT call_sid, status FROM calls").fetchall())
                if len(rows) == 4 and rows[rings[0]["CallSid"]] == "completed":
                    break
                assert time.monotonic() < deadline, (rows, server.log())
                time.sleep(0.1)
        assert spool.depth() == 0
    finally:
        server.stop()
