"""Before its workers start, gunicorn sizes every worker's pool against PostgreSQL's
max_connections, and will not start a deployment that could not fit (callerid/pool.py) or a
SQLite file that cannot be in WAL mode."""

from __future__ import annotations

import subprocess

import pytest

from .conftest import server_env
from .server import Server


@pytest.mark.parametrize("live_database_url", ["postgresql"], indirect=True)
def test_gunicorn_trims_the_pools_to_the_server_and_says_so(live_database_url, tmp_path):
    # The test cluster allows 200: 8 instances x 2 workers leave 12 connections per worker.
    env = server_env(live_database_url, tmp_path / "instance", CALLERID_INSTANCES="8")
    server = Server(env, workers=2).start()
    try:
        assert "database pools cut from 10 + 10 to 10 + 0 per process" in server.log()
        assert "database connections: 16 process(es) x (10 + 0 pooled + 2) = 192" in server.log()
        # The test cluster trades durability for speed; a real deployment must not.
        assert "PostgreSQL's synchronous_commit is off: a crash" in server.log()
    finally:
        server.stop()


@pytest.mark.parametrize("live_database_url", ["postgresql"], indirect=True)
def test_gunicorn_refuses_to_start_more_processes_than_postgresql_accepts(
    live_database_url, tmp_path
):
    env = server_env(live_database_url, tmp_path / "instance", CALLERID_INSTANCES="60")
    log = refused_start(Server(env, workers=2))
    assert "max_connections (200) is too small for 120 callerid process(es)" in log


def test_gunicorn_refuses_a_sqlite_file_that_cannot_be_in_wal_mode(tmp_path):
    url = f"sqlite:///file:{tmp_path / 'on-a-share.sqlite3'}?vfs=unix-dotfile&uri=true"
    log = refused_start(Server(server_env(url, tmp_path / "instance"), workers=1))
    assert "SQLite kept the database in 'delete' journal mode instead of WAL" in log


def refused_start(server: Server) -> str:
    """Start gunicorn, which must exit on its own with an error; its log."""
    server.start_process()
    assert server.process is not None
    try:
        code = server.process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        server.stop()
        raise
    assert code != 0
    return server.log()
