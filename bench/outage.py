"""A database outage in the middle of a benchmark, run from its asyncio loop without blocking it.

PostgreSQL dies as in a crash (``pg_ctl stop -m immediate``) and starts again after the outage;
SQLite stays up, but another process holds its write lock (``BEGIN EXCLUSIVE``) for as long, as a
CLI import of a big file does.
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .postgres import Cluster

# Holds SQLite's write lock for argv[2] seconds; says "locked" once it holds it.
_HOLD_LOCK = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
connection.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
connection.execute("COMMIT")
"""


@dataclass
class Window:
    """When the database was away, in perf_counter seconds (for the report)."""

    began_at: float = 0.0
    ended_at: float = 0.0

    @property
    def seconds(self) -> float:
        return self.ended_at - self.began_at


async def _run(command: list[str]) -> None:
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"{command[-1]} failed: {output.decode(errors='replace')[-2000:]}")


async def postgres_down(cluster: Cluster, seconds: float, window: Window) -> None:
    """Crash the server, wait ``seconds``, start it again (crash recovery included)."""
    window.began_at = time.perf_counter()
    await _run(cluster.crash_command())
    await asyncio.sleep(max(0.0, seconds - (time.perf_counter() - window.began_at)))
    await _run(cluster.start_command())
    window.ended_at = time.perf_counter()


async def sqlite_locked(database: Path, seconds: float, window: Window) -> None:
    """Another process holds ``database``'s write lock for ``seconds``."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _HOLD_LOCK,
        str(database),
        str(seconds),
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    await process.stdout.readline()  # "locked": from here writers wait
    window.began_at = time.perf_counter()
    await process.wait()
    window.ended_at = time.perf_counter()
    if process.returncode != 0:
        raise RuntimeError(f"the SQLite lock holder failed ({process.returncode})")
