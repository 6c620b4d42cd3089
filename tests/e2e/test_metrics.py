"""/metrics on real gunicorn with two workers: every scrape, whichever worker answers it, shows
the counts of both; a new start forgets the last run's; a dead worker's counts stay counted and
its open streams do not."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from callerid.auth import create_user, tokens
from callerid.cli.database import upgrade

from ..metrics.scrape import value, webhooks
from ..twilio import sample
from .conftest import server_env
from .server import TOP, Server
from .sse import Stream

STALE = 1000  # forged webhooks an earlier run counted


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One gunicorn (two workers) on SQLite, its metrics folder holding an earlier run's counts;
    scrapes come from 127.0.0.1, which the allow-list lets in."""
    folder = tmp_path_factory.mktemp("metrics")
    url = f"sqlite:///{folder / 'live.sqlite3'}"
    upgrade(url)
    env = server_env(url, folder / "instance", CALLERID_METRICS_ALLOW="127.0.0.1")
    _count_in_an_earlier_run(Path(env["PROMETHEUS_MULTIPROC_DIR"]))
    token = _screen_token(url)
    server = Server(env, workers=2).start()
    server.screen_token = token  # type: ignore[attr-defined]
    yield server
    server.stop()


def _count_in_an_earlier_run(folder: Path) -> None:
    """Leave the files a previous gunicorn would have left: STALE forbidden voice webhooks."""
    code = (
        "from callerid import metrics\n"
        f"for _ in range({STALE}): metrics.webhook_outcome('/twilio/voice', 'forbidden')"
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    folder.mkdir(parents=True)
    subprocess.run([sys.executable, "-c", code], cwd=TOP, env=env, check=True)
    assert list(folder.glob("counter_*.db"))


def _screen_token(url: str) -> str:
    """A staff login's token, for /events."""
    engine = create_engine(url)
    with Session(engine) as session:
        token = tokens.issue(session, create_user(session, "desk", "staff", "correct horse"))
        session.commit()
    engine.dispose()
    return token


def scrape(server: Server) -> str:
    # A new connection each time, so that either worker may answer.
    response = requests.get(server.url + "/metrics", timeout=10, headers={"Connection": "close"})
    assert response.status_code == 200
    return response.text


def forge(server: Server, route: str) -> int:
    response = requests.post(
        server.url + route,
        data=sample("voice-inbound-us"),
        timeout=10,
        headers={"X-Twilio-Signature": "forged", "Connection": "close"},
    )
    return response.status_code


def worker_pids(server: Server, at_least: int = 2) -> list[int]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        pids = [int(pid) for pid in re.findall(r"Booting worker with pid: (\d+)", server.log())]
        if len(pids) >= at_least:
            return pids
        time.sleep(0.05)
    raise AssertionError(f"fewer than {at_least} workers booted: {server.log()[-2000:]}")


def metrics_folder(server: Server) -> Path:
    return Path(server.env["PROMETHEUS_MULTIPROC_DIR"])


def test_a_new_start_does_not_count_what_the_last_run_counted(live):
    assert webhooks(scrape(live), "/twilio/voice", "forbidden") == 0


def test_every_scrape_shows_the_requests_both_workers_served(live):
    before = webhooks(scrape(live), "/twilio/status", "forbidden")
    folder, sent = metrics_folder(live), 0
    served_by = [folder / f"counter_{pid}.db" for pid in worker_pids(live)[:2]]
    deadline = time.monotonic() + 20
    # Concurrent requests until each worker has counted some (each keeps its own file).
    with ThreadPoolExecutor(8) as pool:
        while not all(path.exists() for path in served_by) and time.monotonic() < deadline:
            answers = list(pool.map(lambda _: forge(live, "/twilio/status"), range(16)))
            assert answers == [403] * 16
            sent += 16
    assert all(path.exists() for path in served_by), "one worker took every request"
    totals = [webhooks(scrape(live), "/twilio/status", "forbidden") for _ in range(6)]
    assert totals == [before + sent] * 6


def test_open_streams_are_summed_and_a_dead_workers_streams_stop_counting(live, tmp_path):
    """Screens connected to either worker count in every scrape; when gunicorn reaps a worker,
    its screens are gone (they reconnect elsewhere) but its webhook counts stay in the totals."""
    for _ in range(8):
        assert forge(live, "/twilio/status") == 403
    total = webhooks(scrape(live), "/twilio/status", "forbidden")
    headers = {"Authorization": f"Bearer {live.screen_token}"}
    screens = [Stream(live.url + "/events", headers) for _ in range(6)]
    try:
        for screen in screens:
            assert screen.next().event == "stream.open"
        assert [streams_open(live) for _ in range(4)] == [6] * 4
        pids = worker_pids(live)
        held = {pid: streams_held_by(live, pid, tmp_path) for pid in pids[:2]}
        assert sum(held.values()) == 6
        victim = max(held, key=held.__getitem__)  # a worker that holds some of the screens
        os.kill(victim, signal.SIGKILL)
        worker_pids(live, at_least=len(pids) + 1)  # gunicorn has reaped it and booted another
        deadline = time.monotonic() + 10
        while streams_open(live) != 6 - held[victim] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert streams_open(live) == 6 - held[victim]
        assert sum(screen._thread.is_alive() for screen in screens) == 6 - held[victim]
        assert not (metrics_folder(live) / f"gauge_livesum_{victim}.db").exists()
        totals = [webhooks(scrape(live), "/twilio/status", "forbidden") for _ in range(3)]
        assert totals == [total] * 3
    finally:
        for screen in screens:
            screen.close()


def streams_open(server: Server) -> float | None:
    return value(scrape(server), "callerid_event_streams_open")


def streams_held_by(server: Server, pid: int, scratch: Path) -> float:
    """The open streams of one worker: its live-gauge file alone, read as a scrape reads it."""
    alone = scratch / f"worker-{pid}"
    alone.mkdir()
    name = f"gauge_livesum_{pid}.db"
    shutil.copyfile(metrics_folder(server) / name, alone / name)
    families = MultiProcessCollector(None, path=str(alone)).collect()
    (gauge,) = [f for f in families if f.name == "callerid_event_streams_open"]
    return sum(sample.value for sample in gauge.samples)
