"""Real gunicorn, started the way the README starts it, on a free loopback port."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import requests

from bench.server import gunicorn_command

from ..pg import free_port

TOP = Path(__file__).resolve().parents[2]


class Server:
    """gunicorn with our config file; stop() ends the whole process group (open streams too)."""

    def __init__(self, env: dict[str, str], workers: int = 2, log: Path | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.env = {**os.environ, **env}
        self.log_path = log or Path(env.get("CALLERID_INSTANCE_PATH", "/tmp")) / "gunicorn.log"
        self.command = gunicorn_command(f"127.0.0.1:{self.port}", workers)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        self.start_process()
        try:
            self._wait_until_healthy(deadline=time.monotonic() + 60)
        except BaseException:
            self.stop()
            raise
        return self

    def start_process(self) -> None:
        """Start gunicorn without waiting for it to answer."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=TOP,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _wait_until_healthy(self, deadline: float) -> None:
        assert self.process is not None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log()[-3000:]}")
            try:
                if requests.get(self.url + "/healthz", timeout=3).ok:
                    return
            except (requests.ConnectionError, requests.Timeout):
                # The socket accepts before a busy master has finished loading the app.
                time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not answer: {self.log()[-3000:]}")

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
        return self.log_path.read_text(errors="replace")
