"""gunicorn with the project's own config, as the end-to-end tests start it, and what the
benchmarks measure of it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Self

from tests.e2e import server as e2e
from tests.e2e.server import FULL_APP

AUTH_TOKEN = "bench0token0bench0token0bench000"
DESK = "+12025550199"
# The app for the "bare" comparison: one Flask view answering constant TwiML.
BARE_APP = "bench.bare:app"


def app_env(database_url: str, instance: Path, **extra: str) -> dict[str, str]:
    """The environment the README tells operators to set, pointed at ``database_url``."""
    return {
        "DATABASE_URL": database_url,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "CALLERID_INSTANCE_PATH": str(instance),
        "CALLERID_FORWARD_TO": DESK,
        "SECRET_KEY": "bench-secret",
        **extra,
    }


class Server(e2e.Server):
    """The tests' gunicorn (tests/e2e/server.py), ready only once every worker has started, and
    with what the benchmarks measure of it: memory, CPU time, connections per worker, errors."""

    def __init__(
        self, env: dict[str, str], log: Path, *, workers: int = 2, app: str = FULL_APP
    ) -> None:
        super().__init__(env, log, workers=workers, app=app)

    def is_ready(self) -> bool:
        return super().is_ready() and len(self.worker_pids()) >= self.workers

    def worker_pids(self) -> list[int]:
        if self.process is None:
            return []
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []

    def rss_kib(self) -> dict[int, int]:
        """Resident memory of the master and each worker, in KiB, from /proc."""
        pids = ([self.process.pid] if self.process else []) + self.worker_pids()
        return {pid: rss for pid in pids if (rss := _rss(pid)) is not None}

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the workers have used so far, from /proc: unlike wall time,
        it does not grow when other processes compete for the cores."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.worker_pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / ticks

    def connections_per_worker(self) -> dict[int, int]:
        """How many established TCP connections to our port each worker holds (from /proc)."""
        established = _established_inodes(self.port)
        counts = {}
        for pid in self.worker_pids():
            inodes = set()
            try:
                for fd in Path(f"/proc/{pid}/fd").iterdir():
                    target = os.readlink(fd)
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
            except OSError:
                continue
            counts[pid] = len(inodes & established)
        return counts

    def errors(self) -> list[str]:
        """Lines of the server's log that report errors or tracebacks (not access lines)."""
        marks = ("Traceback", "ERROR", "CRITICAL", "WORKER TIMEOUT", "Exception")
        return [line for line in self.log().splitlines() if any(m in line for m in marks)]

    def __enter__(self) -> Self:
        self.start()
        return self


def _rss(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def memory_kib(pid: int) -> dict[str, int]:
    """A process's resident memory now (``VmRSS``) and its peak so far (``VmHWM``), in KiB;
    empty when it is gone."""
    found = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                found[line[2:5].lower()] = int(line.split()[1])
    except OSError:
        return {}
    return found


def _established_inodes(port: int) -> set[str]:
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "01" and int(local.rsplit(":", 1)[1], 16) == port:
                found.add(inode)
    return found


def raise_open_files(wanted: int = 65536) -> None:
    """Lift this process's (and so its children's) open-file limit as far as allowed: a
    thousand screens need a thousand sockets on each side."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(wanted, hard) if hard != resource.RLIM_INFINITY else wanted
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
