"""A PostgreSQL server for benchmarks: tests/pg.py's cluster, tuned to measure rather than to test.

fsync stays on (commits are not synced, like SQLite's synchronous=NORMAL), buffers are sized for a
5M-call history, and the folder is kept between runs so that large datasets are built once.
"""

from __future__ import annotations

from pathlib import Path

from tests import pg
from tests.pg import PostgresUnavailable, available, free_port

__all__ = ["DURABLE", "SETTINGS", "Cluster", "PostgresUnavailable", "available", "free_port"]

# What the server is told on start; see docs/benchmarks.md for why each differs from defaults.
SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "max_connections": "400",
    # Commits are flushed by the WAL writer within 200 ms instead of one fsync each: a crash of
    # the server (or the machine) may lose the last moments of commits already acknowledged.
    # Benchmarks that crash the server on purpose start it with DURABLE instead.
    "synchronous_commit": "off",
    "shared_buffers": "1GB",
    "effective_cache_size": "8GB",
    "maintenance_work_mem": "1GB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "30min",
    "jit": "off",
}


# PostgreSQL's default: a commit is acknowledged once its WAL is on disk, so one acknowledged
# before a crash is there after it. What callerid's promise (nothing acknowledged that is not
# stored) needs; the default of every real deployment.
DURABLE = {"synchronous_commit": "on"}


class Cluster(pg.Cluster):
    """A server whose data lives in ``root``, kept between runs; ``settings`` override SETTINGS."""

    def __init__(self, root: Path, settings: dict[str, str] | None = None) -> None:
        super().__init__(root, {**SETTINGS, **(settings or {})})
