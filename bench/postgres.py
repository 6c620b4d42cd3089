"""A PostgreSQL server for benchmarks: Debian's binaries, a folder of our own, a free port.

A copy of tests/pg.py's cluster, tuned to measure rather than to test: fsync stays on (commits
are not synced, like SQLite's synchronous=NORMAL), buffers are sized for a 5M-call history, and the
folder can be kept between runs so that large datasets are built once.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from sqlalchemy import create_engine, text

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


class PostgresUnavailable(RuntimeError):
    pass


def available() -> bool:
    try:
        _bindir()
    except PostgresUnavailable:
        return False
    return True


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise PostgresUnavailable("PostgreSQL is not installed (Debian: apt-get install postgresql).")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    """A server whose data lives in ``root``; an existing folder is started again, not rebuilt."""

    def __init__(self, root: Path, settings: dict[str, str] | None = None) -> None:
        self.settings = {**SETTINGS, **(settings or {})}
        self.bindir = _bindir()
        self.root = root.resolve()
        self.data = self.root / "data"
        self.port = free_port()
        # initdb refuses to run as root: run the server as the postgres user then.
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def url_for(self, database: str) -> str:
        return f"postgresql+psycopg://callerid@127.0.0.1:{self.port}/{database}"

    @property
    def admin_url(self) -> str:
        return self.url_for("postgres")

    def _run(self, *args: str) -> None:
        subprocess.run([*self._as, *args], check=True, capture_output=True, cwd=self.root)

    def start(self) -> Cluster:
        self.root.mkdir(parents=True, exist_ok=True)
        if self._as:
            shutil.chown(self.root, "postgres", "postgres")
        if not (self.data / "PG_VERSION").exists():
            self._run(
                str(self.bindir / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "callerid",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            )
        subprocess.run(self.start_command(), check=True, capture_output=True, cwd=self.root)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.05)
        raise PostgresUnavailable(f"PostgreSQL did not start; see {self.root / 'log'}")

    def crash_command(self) -> list[str]:
        """``pg_ctl stop -m immediate``: the server dies as in a crash (recovery on next start);
        a command to run, so that an asyncio benchmark can run it without blocking its loop."""
        return [
            *self._as,
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-m",
            "immediate",
            "stop",
        ]

    def start_command(self) -> list[str]:
        """``pg_ctl start`` on the same port and settings as ``start()``, once initialised."""
        options = f"-p {self.port} -k {self.root} " + " ".join(
            f"-c {name}={value}" for name, value in self.settings.items()
        )
        return [
            *self._as,
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "log"),
            "-w",
            "-t",
            "60",
            "start",
        ]

    def stop(self) -> None:
        """Stop the server cleanly, keeping its data for the next run."""
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop")

    def restart(self) -> None:
        """Stop and start again: empties shared_buffers (for cold runs)."""
        self.stop()
        self.port = free_port()
        self.start()

    def admin(self, *statements: str) -> None:
        """Run statements outside a transaction (CREATE/DROP DATABASE)."""
        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                for statement in statements:
                    connection.execute(text(statement))
        finally:
            engine.dispose()

    def exists(self, database: str) -> bool:
        engine = create_engine(self.admin_url)
        try:
            with engine.connect() as connection:
                found = connection.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": database}
                ).first()
        finally:
            engine.dispose()
        return found is not None

    def copy_database(self, source: str, target: str) -> str:
        """A fresh ``target`` cloned from ``source`` (a file-level copy); returns its URL."""
        self.admin(
            f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)',
            f'CREATE DATABASE "{target}" TEMPLATE "{source}"',
        )
        return self.url_for(target)

    def data_files(self) -> list[Path]:
        return [p for p in (self.data / "base").rglob("*") if p.is_file()]
