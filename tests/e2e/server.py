"""Real gunicorn, started the way the README starts it, on a free loopback port.

The end-to-end tests use ``Server`` as it is; the benchmarks (bench/server.py) add their
measurements to it.
"""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Self

from ..pg import free_port

TOP = Path(__file__).resolve().parents[2]
FULL_APP = "wsgi:app"


def gunicorn_command(bind: str, workers: int, app: str = FULL_APP) -> list[str]:
    """gunicorn as the README starts it (our config file), on ``bind`` with ``workers``; run it
    from the top of the checkout."""
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
    """``python -m gunicorn -c config/gunicorn.conf.py --bind 127.0.0.1:PORT --workers N APP``,
    its output appended to ``log`` (default: gunicorn.log in the instance folder); ``stop()``
    ends the whole process group, open streams included."""

    def __init__(
        self,
        env: dict[str, str],
        log: Path | None = None,
        *,
        workers: int = 2,
        app: str = FULL_APP,
    ) -> None:
        self.port = free_port()
        self.host = "127.0.0.1"
        self.url = f"http://{self.host}:{self.port}"
        self.workers = workers
        self.env = {**os.environ, **env}
        self.log_path = log or Path(env.get("CALLERID_INSTANCE_PATH", "/tmp")) / "gunicorn.log"
        self.command = gunicorn_command(f"{self.host}:{self.port}", workers, app)
        self.process: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    def start(self) -> Self:
        self.start_process()
        try:
            self._wait_until_ready(deadline=time.monotonic() + 60)
        except BaseException:
            self.stop()
            raise
        return self

    def start_process(self) -> None:
        """Start gunicorn without waiting for it to answer."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:  # appended: earlier runs stay for diagnosis
            self.process = subprocess.Popen(
                self.command,
                cwd=TOP,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _wait_until_ready(self, deadline: float) -> None:
        assert self.process is not None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log()[-3000:]}")
            if self.is_ready():
                return
            # The socket accepts before a busy master has finished loading the app.
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not answer: {self.log()[-3000:]}")

    def is_ready(self) -> bool:
        """``GET /healthz`` answers."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=3)
        try:
            connection.request("GET", "/healthz")
            return connection.getresponse().status < 400
        except OSError:
            return False
        finally:
            connection.close()

    def stop(self) -> None:
        """Kill the whole process group (master, workers, open streams) at once. No test needs a
        graceful stop, which took 1.2 to 2.7 s with streams open; the database copes with a
        killed writer as it would with a power cut."""
        if self.process is None:
            return
        try:
            # Its own session, so pgid == pid; also reaches workers a dead master left behind.
            os.killpg(self.process.pid, signal.SIGKILL)
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

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
