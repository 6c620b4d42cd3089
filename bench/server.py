"""gunicorn with the project's own config (config/gunicorn.conf.py), on a loopback port."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from .postgres import free_port

TOP = Path(__file__).resolve().parent.parent
AUTH_TOKEN = "bench0token0bench0token0bench000"
DESK = "+12025550199"
# The app for the "bare" comparison: one Flask view answering constant TwiML.
BARE_APP = "bench.bare:app"
FULL_APP = "wsgi:app"


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


def gunicorn_command(bind: str, workers: int, app: str = FULL_APP) -> list[str]:
    """gunicorn as the README starts it (our config file), on ``bind`` with ``workers``; run it
    from the top of the checkout. The tests' servers start the same way."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "config/gunicorn.conf.py",
        "--bind",
        bind,
        "--workers",
        str(workers),
        "--graceful-timeout",
        "2",
        app,
    ]


class Server:
    """``python -m gunicorn -c config/gunicorn.conf.py --bind 127.0.0.1:PORT --workers N APP``;
    ``stop()`` ends the whole process group, open streams included."""

    def __init__(
        self, env: dict[str, str], log: Path, *, workers: int = 2, app: str = FULL_APP
    ) -> None:
        self.port = free_port()
        self.host = "127.0.0.1"
        self.url = f"http://{self.host}:{self.port}"
        self.workers = workers
        self.app = app
        self.env = {**os.environ, **env}
        self.log_path = log
        self.process: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    def start(self) -> Server:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = self.log_path.open("ab")  # appended: earlier runs stay for diagnosis
        self.process = subprocess.Popen(
            gunicorn_command(f"{self.host}:{self.port}", self.workers, self.app),
            cwd=TOP,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()  # the server holds its own copy of the descriptor
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log()[-3000:]}")
            if self._healthy() and len(self.worker_pids()) >= self.workers:
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer: {self.log()[-3000:]}")

    def _healthy(self) -> bool:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=2)
        try:
            connection.request("GET", "/healthz")
            return connection.getresponse().status < 500
        except OSError:
            return False
        finally:
            connection.close()

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

    def stop(self) -> None:
        """Kill the whole process group at once: a measurement is over by now, and a graceful
        stop only waits for open streams (seconds per server in the smoke tests)."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # its own session: pgid == pid
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)

    def log(self) -> str:
        """What this server wrote to its log (earlier runs' lines left out)."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(self._log_offset)
                return log.read().decode(errors="replace")
        except OSError:
            return ""

    def errors(self) -> list[str]:
        """Lines of the server's log that report errors or tracebacks (not access lines)."""
        marks = ("Traceback", "ERROR", "CRITICAL", "WORKER TIMEOUT", "Exception")
        return [line for line in self.log().splitlines() if any(m in line for m in marks)]

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


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
