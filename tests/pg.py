"""A PostgreSQL server of our own: Debian's binaries, a folder, a free port.

The tests start one per test process in a temp folder, with durability off; the benchmarks
(bench/postgres.py) start one in a folder they keep between runs, with settings for measuring.
"""

from __future__ import annotations

import glob
import itertools
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Self

from sqlalchemy import create_engine, text

# The tests' server trades durability for speed: nothing in it outlives the test run.
TEST_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
}


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
    raise PostgresUnavailable(
        "PostgreSQL is not installed (Debian: apt-get install postgresql; scripts/test installs "
        "it), or set CALLERID_TEST_DATABASES=sqlite to test on SQLite only."
    )


# Ports for the servers tests start (gunicorn, PostgreSQL, nginx): below the kernel's ephemeral
# range (32768 and up), which hands out the ports of every bind(("", 0)) and outgoing connection,
# and in a block of its own per test process. A port taken from the ephemeral range was free when
# asked, but another process's stand-in server could bind it before our gunicorn did; the
# gunicorn's readiness probe then reached that stand-in (seen once, with three test processes).
_FIRST_PORT = 20000
_BLOCK = 1000
_next_port = itertools.count()


def free_port() -> int:
    """A free port no other test process will pick."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    block = int(worker[2:]) if worker.startswith("gw") else 8 + os.getpid() % 4  # bench runs
    for _ in range(_BLOCK):
        port = _FIRST_PORT + block * _BLOCK + next(_next_port) % _BLOCK
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue  # taken, or closing (TIME_WAIT): the next one
        return port
    raise RuntimeError(f"no free port in {_FIRST_PORT + block * _BLOCK} and the {_BLOCK} after")


class Cluster:
    """``initdb`` + ``pg_ctl start``; ``url`` is a SQLAlchemy URL for psycopg 3.

    Without ``root`` the server lives in a new temp folder that ``stop()`` kills and removes.
    With ``root``, an existing cluster there is started again, not rebuilt, and ``stop()`` shuts
    it down cleanly, keeping its data."""

    def __init__(self, root: Path | None = None, settings: dict[str, str] | None = None) -> None:
        self.settings = settings if settings is not None else TEST_SETTINGS
        self.bindir = _bindir()
        self.is_temporary = root is None
        self.root = (
            Path(tempfile.mkdtemp(prefix="callerid-pg-")) if root is None else root.resolve()
        )
        self.data = self.root / "data"
        self.port = free_port()
        # initdb refuses to run as root: run the server as the postgres user then.
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    @property
    def url(self) -> str:
        return self.url_for("callerid")

    @property
    def admin_url(self) -> str:
        return self.url_for("postgres")

    def url_for(self, database: str) -> str:
        return f"postgresql+psycopg://callerid@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        subprocess.run([*self._as, *args], check=True, capture_output=True, cwd=self.root)

    def start(self) -> Self:
        """Create the cluster (with an empty ``callerid`` database) unless ``root`` holds one,
        and start it; returns once it accepts connections."""
        self.root.mkdir(parents=True, exist_ok=True)
        if self._as:
            shutil.chown(self.root, "postgres", "postgres")
        is_new = not (self.data / "PG_VERSION").exists()
        if is_new:
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
        self.resume()
        if is_new:
            self.admin("CREATE DATABASE callerid")
        return self

    def start_command(self) -> list[str]:
        """``pg_ctl start`` on this port and settings, once initialised: a command to run, so
        that an asyncio benchmark can run it without blocking its loop."""
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

    def crash_command(self) -> list[str]:
        """``pg_ctl stop -m immediate``: the server dies as in a crash (recovery on next start)."""
        pg_ctl = str(self.bindir / "pg_ctl")
        return [*self._as, pg_ctl, "-D", str(self.data), "-m", "immediate", "stop"]

    def resume(self) -> None:
        """Start (again) the server on its port; returns once it accepts connections."""
        subprocess.run(self.start_command(), check=True, capture_output=True, cwd=self.root)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise PostgresUnavailable(f"PostgreSQL did not start; see {self.root / 'log'}")

    def pause(self) -> None:
        """Stop the server at once (as a crash would), keeping its data for ``resume``."""
        subprocess.run(self.crash_command(), check=True, capture_output=True, cwd=self.root)

    def stop(self) -> None:
        """A temporary cluster: kill the server (no test needs a clean shutdown) and remove its
        folder. A kept one: shut down cleanly, keeping its data for the next run."""
        if not self.is_temporary:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop")
            return
        try:
            self.pause()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def restart(self) -> None:
        """Stop and start again on a new port: empties shared_buffers (for cold runs)."""
        self.stop()
        self.port = free_port()
        self.start()

    def new_database(self, prefix: str) -> str:
        """Create an empty database with a fresh name; return its URL."""
        name = f"{prefix}_{secrets.token_hex(4)}"
        self.admin(f"CREATE DATABASE {name}")
        return self.url_for(name)

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
