"""Database connections per process: sized to what PostgreSQL accepts, with a bounded, counted
queue of waiting requests; a webhook the queue turns away is spooled, never dropped."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from sqlalchemy import exc, text

from callerid import create_app, db
from callerid.metrics import counters
from callerid.pool import BESIDE_THE_POOL, HEADROOM, PoolDoesNotFit, QueueFull, fit, fit_engine
from callerid.telephony import recorder, replayer

from .conftest import settings_for
from .twilio import post_signed, status_sequence


@pytest.mark.parametrize(
    ("limit", "processes", "expected"),
    [
        (100, 4, (10, 10)),  # 4 x 22 = 88 <= 100 - 3 - 5: as configured
        (100, 5, (10, 6)),  # the overflow gives way first: 5 x 18 = 90 <= 92
        (100, 8, (9, 0)),  # then the pool: 8 x 11 = 88 <= 92
    ],
)
def test_pools_are_cut_to_stay_below_max_connections(limit, processes, expected):
    found = fit(limit, 3, processes, 10, 10)
    assert (found.pool_size, found.max_overflow) == expected
    assert found.total <= limit - 3 - HEADROOM


def test_a_server_too_small_for_every_process_is_refused_with_what_it_needs():
    with pytest.raises(PoolDoesNotFit, match=r"max_connections \(100\) .* at least 132"):
        fit(100, 3, 31, 10, 10)  # 31 x (2 + 2) + 3 reserved + 5 free


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_pool_is_fitted_to_the_servers_own_limit(app, caplog):
    engine = db.engine_for(app)
    with engine.connect() as connection:
        limit = int(connection.execute(text("SHOW max_connections")).scalar_one())
        reserved = int(connection.execute(text("SHOW superuser_reserved_connections")).scalar())
        reserved += int(  # PostgreSQL 16's own reserve; none before it
            connection.execute(
                text("SELECT setting FROM pg_settings WHERE name = 'reserved_connections'")
            ).scalar()
            or 0
        )
    processes = (limit - reserved - HEADROOM) // (BESIDE_THE_POOL + 12)  # room for 12 or so
    expected = fit(limit, reserved, processes, 10, 10)
    assert expected.pool_size + expected.max_overflow < 20  # the server makes it cut
    with caplog.at_level(logging.INFO, logger="callerid.pool"):
        found = fit_engine(engine, processes)
    assert found == expected
    assert (engine.pool.size(), engine.pool._max_overflow) == (10, expected.max_overflow)
    assert found.total <= limit - reserved - HEADROOM
    cut = f"database pools cut from 10 + 10 to 10 + {expected.max_overflow} per process"
    assert cut in caplog.text
    with engine.connect() as connection:  # the new pool works, hooks and all
        assert connection.execute(text("SELECT 1")).scalar() == 1


def test_sqlite_pools_are_left_as_configured(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'one.sqlite3'}")
    assert fit_engine(engine, 1000) is None
    assert engine.pool.size() == 10
    engine.dispose()


def test_requests_beyond_the_queue_are_turned_away_at_once_and_counted(tmp_path):
    engine = db.make_engine(
        f"sqlite:///{tmp_path / 'q.sqlite3'}", timeout=5, pool_size=1, max_overflow=0, max_waiting=1
    )
    engine.pool.watch.waiting = lambda change: waits.append(change)
    engine.pool.watch.refused = lambda why: refusals.append(why)
    waits: list[int] = []
    refusals: list[str] = []
    held = engine.connect()
    got: list[object] = []
    waiter = threading.Thread(target=lambda: got.append(engine.connect()))
    waiter.start()
    deadline = time.monotonic() + 5
    while engine.pool.waiting != 1:
        assert time.monotonic() < deadline, "the second request never queued"
        time.sleep(0.01)
    started = time.monotonic()
    with pytest.raises(QueueFull, match="1 requests of this process already wait"):
        engine.connect()
    assert time.monotonic() - started < 1  # turned away, not made to wait 5 s
    held.close()
    waiter.join(5)
    assert len(got) == 1  # the one in the queue got the connection
    got[0].close()  # type: ignore[attr-defined]
    assert (waits, refusals, engine.pool.waiting) == ([1, -1], ["full"], 0)
    engine.dispose()


def test_a_callback_the_queue_turns_away_is_spooled_and_applied_later(tmp_path, sqlite_schema):
    import shutil

    path = tmp_path / "callerid.sqlite3"
    shutil.copyfile(sqlite_schema, path)
    app = create_app(
        settings_for(
            f"sqlite:///{path}",
            tmp_path / "instance",
            CALLERID_DB_POOL_SIZE=1,
            CALLERID_DB_MAX_OVERFLOW=0,
            CALLERID_DB_QUEUE=0,
        )
    )
    before = counters.DB_TURNED_AWAY.labels("full")._value.get()
    held = db.engine_for(app).connect()  # every connection of the process is busy
    try:
        answer = post_signed(app.test_client(), "/twilio/status", status_sequence()[2])
        assert answer.status_code in (200, 204)  # stored, in the spool: Twilio may stop
        assert recorder.spool_of(app).depth() == 1
        assert counters.DB_TURNED_AWAY.labels("full")._value.get() > before
    finally:
        replayer.stop(app)
        held.close()
    assert recorder.replay(app) == (1, None)
    with db.engine_for(app).connect() as connection:
        status = connection.execute(text("SELECT status FROM calls")).scalar_one()
    assert status == "completed"
    db.engine_for(app).dispose()


def test_a_request_is_counted_once_though_the_pool_looks_again_for_it(tmp_path, monkeypatch):
    # QueuePool looks again (calls itself) when another took the overflow slot it saw free.
    engine = db.make_engine(
        f"sqlite:///{tmp_path / 'r.sqlite3'}", timeout=1, pool_size=1, max_overflow=0
    )
    pool = engine.pool
    seen: list[int] = []
    pool.watch.waiting = lambda change: seen.append(pool.waiting)
    held = engine.connect()
    real = type(pool).__mro__[1]._do_get
    looked = []

    def look_twice(self):
        if not looked:
            looked.append(1)
            return self._do_get()  # as QueuePool does after losing the race
        return real(self)

    monkeypatch.setattr(type(pool).__mro__[1], "_do_get", look_twice)
    with pytest.raises(exc.TimeoutError):
        engine.connect()
    held.close()
    assert seen == [1, 0]  # one request waited, counted once, and left
    engine.dispose()


@pytest.mark.parametrize(
    ("name", "value"),
    [("CALLERID_DB_POOL_SIZE", 0), ("CALLERID_DB_MAX_OVERFLOW", -1), ("CALLERID_INSTANCES", 0)],
)
def test_pool_settings_that_would_mean_no_limit_are_refused_by_name(tmp_path, name, value):
    settings = settings_for(f"sqlite:///{tmp_path / 'x.sqlite3'}", tmp_path / "i", **{name: value})
    with pytest.raises(db.BadSetting, match=f"{name} must be at least"):
        create_app(settings)
