"""The voice webhook over HTTP against real gunicorn workers."""

from __future__ import annotations

import json
import threading
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import create_engine, text

from ..twilio import sample
from .conftest import post_signed


@pytest.fixture(scope="module")
def server(module_server):
    """One server for the module: each test looks only at the calls it makes itself."""
    return module_server


def test_gunicorn_answers_a_signed_call_with_a_dial(server):
    response = post_signed(server.url, "/twilio/voice", sample("voice-inbound-us"))
    assert response.status_code == 200, server.log()
    assert ET.fromstring(response.content).find("Dial") is not None


def test_gunicorn_refuses_a_forged_call(server):
    headers = {"X-Twilio-Signature": "bm90IGEgcmVhbCBzaWduYXR1cmU="}
    refused = requests.post(
        server.url + "/twilio/voice", data=sample("voice-inbound-us"), headers=headers, timeout=5
    )
    assert refused.status_code == 403


def test_a_burst_of_calls_and_retries_is_answered_and_recorded_once_each(
    server, module_database_url
):
    # Webhooks arriving together share a transaction (group commit); retries racing their
    # first delivery must still leave one call and one announcement per CallSid.
    sids = [f"CA{index:032x}" for index in range(0xB0, 0xB0 + 16)]
    deliveries = [(sid, index) for index, sid in enumerate(sids) for _ in range(3)]
    start = threading.Barrier(len(deliveries))

    def deliver(delivery: tuple[str, int]) -> requests.Response:
        sid, index = delivery
        params = sample("voice-inbound-us", CallSid=sid, From=f"+1312555{index:04d}")
        start.wait(10)
        return post_signed(server.url, "/twilio/voice", params)

    with ThreadPoolExecutor(len(deliveries)) as pool:
        responses = list(pool.map(deliver, deliveries))
    for response in responses:
        assert response.status_code == 200, server.log()
        assert ET.fromstring(response.content).find("Dial") is not None
    engine = create_engine(module_database_url)
    try:
        with engine.connect() as connection:
            recorded = connection.execute(text("SELECT call_sid FROM calls")).scalars().all()
            ringing = connection.execute(
                text("SELECT data FROM events WHERE kind = 'call.ringing'")
            ).scalars()
            announced = sorted(json.loads(data)["call_sid"] for data in ringing)
    finally:
        engine.dispose()
    # Other tests of the module rang other calls on this database: count only the burst's.
    assert sorted(sid for sid in recorded if sid in sids) == sids
    assert [sid for sid in announced if sid in sids] == sids
    assert "unrecorded" not in server.log()
