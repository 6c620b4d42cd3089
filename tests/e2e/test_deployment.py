"""docs/deployment.md followed on this machine: one database, two gunicorn instances started by the
systemd unit's ExecStart with the guide's environment file, and nginx in front of them with
config/nginx/callerid.conf, over TLS on loopback. Only what cannot be the same here is changed:
ports, the host name and its certificate, the database address and the secrets."""

from __future__ import annotations

import os
import queue
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from ..conftest import ENGINES
from ..factories import call_sid
from ..pg import free_port
from ..twilio import AUTH_TOKEN, sample, signature
from .server import Server
from .sse import Message, Stream

TOP = Path(__file__).resolve().parents[2]
GUIDE = TOP / "docs" / "deployment.md"
SITE = TOP / "config" / "nginx" / "callerid.conf"
UNIT = TOP / "config" / "systemd" / "callerid@.service"
ENV_FILE = TOP / "config" / "systemd" / "callerid.env"
CHECKOUT = "/srv/callerid"  # where the guide puts the code
STAFF_PASSWORD = "desk-password-1"
# The one call the guide's last step simulates.
GUIDE_CALL = '.venv/bin/flask --app wsgi simulate call "+1 415 555 0134"'


def code_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```[a-z]*\n(.*?)^```$", markdown, flags=re.DOTALL | re.MULTILINE)


def env_file(content: str) -> dict[str, str]:
    """KEY=value lines as systemd's EnvironmentFile= reads them (whole-line comments only)."""
    values = {}
    for line in content.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";")):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def unit_settings(content: str) -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in content.splitlines():
        if "=" in line and not line.startswith(("#", ";", "[")):
            name, _, value = line.partition("=")
            settings.setdefault(name.strip(), []).append(value.strip())
    return settings


def test_the_guide_shows_the_very_files_this_test_deploys():
    guide = GUIDE.read_text()
    blocks = code_blocks(guide)
    for path in (SITE, UNIT, ENV_FILE):
        assert path.read_text() in blocks, f"docs/deployment.md must show {path.name} verbatim"
    # Started by hand rather than by systemd, an instance runs the unit's ExecStart.
    (exec_start,) = unit_settings(UNIT.read_text())["ExecStart"]
    by_hand = exec_start.replace(CHECKOUT + "/", "")
    for port in ("8000", "8001"):
        assert by_hand.replace("%i", port) in guide
    for step in ("set -a; . /etc/callerid/callerid.env; set +a", "flask --app wsgi db upgrade"):
        assert step in guide
    assert GUIDE_CALL in guide


class Instance(Server):
    """One gunicorn started exactly as callerid@PORT.service starts it."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        super().__init__(env, log=log)
        unit = unit_settings(UNIT.read_text())
        (exec_start,) = unit["ExecStart"]
        self.command = exec_start.replace(CHECKOUT, str(TOP)).replace("%i", str(self.port)).split()
        self.env = env  # systemd starts services with their configured environment only

    def count_in_log(self, text: str, at_least: int, timeout: float = 10) -> int:
        """How often `text` is in the log, waiting until it is there `at_least` times.

        gunicorn writes a request's access line after the response has gone out, so a client
        can hold the response before the line is on disk.
        """
        deadline = time.monotonic() + timeout
        while (count := self.log().count(text)) < at_least and time.monotonic() < deadline:
            time.sleep(0.05)
        return count


class Nginx:
    """Debian's nginx with the guide's site file, run unprivileged from a folder of its own."""

    def __init__(self, folder: Path, port: int, upstreams: list[int]) -> None:
        self.folder, self.port = folder, port
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not os.path.exists(binary):
            pytest.fail("nginx is not installed: run `bash scripts/setup test`, which installs it")
        self.binary = binary
        self.cert, self.key = folder / "cert.pem", folder / "key.pem"
        self.site = self._site(upstreams)
        self.process: subprocess.Popen[bytes] | None = None

    def _site(self, upstreams: list[int]) -> str:
        site = SITE.read_text()
        changes = {
            "listen 443 ssl http2;": f"listen 127.0.0.1:{self.port} ssl http2;",
            "server_name desk.example.com;": "server_name localhost;",
            "/etc/letsencrypt/live/desk.example.com/fullchain.pem": str(self.cert),
            "/etc/letsencrypt/live/desk.example.com/privkey.pem": str(self.key),
            "server 127.0.0.1:8000;": f"server 127.0.0.1:{upstreams[0]};",
            "server 127.0.0.1:8001;": f"server 127.0.0.1:{upstreams[1]};",
        }
        for placeholder, value in changes.items():
            assert site.count(placeholder) == 1, f"{SITE.name} no longer has {placeholder!r}"
            site = site.replace(placeholder, value)
        return site

    def _main_config(self) -> str:
        # Debian's /etc/nginx/nginx.conf, with paths of our own, and gzip switched on for every
        # text type, event streams included, as a site-wide setting might: the site must undo it.
        folder = self.folder
        return f"""
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log notice;
events {{ worker_connections 256; }}
http {{
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    ssl_protocols TLSv1.2 TLSv1.3;
    access_log {folder}/access.log;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    gzip on;
    gzip_proxied any;
    gzip_types text/plain text/css application/json text/event-stream;
    include {folder}/callerid.conf;
}}
"""

    def start(self) -> Nginx:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
            + ["-nodes", "-days", "2", "-subj", "/CN=localhost"]
            + ["-addext", "subjectAltName=DNS:localhost", "-keyout", str(self.key)]
            + ["-out", str(self.cert)],
            check=True,
            capture_output=True,
        )
        (self.folder / "callerid.conf").write_text(self.site)
        conf = self.folder / "nginx.conf"
        conf.write_text(self._main_config())
        command = [self.binary, "-p", str(self.folder), "-c", str(conf), "-e", "error.log"]
        if os.geteuid() == 0:  # as root, run it as nobody: it needs no privilege on a high port
            for path in [self.folder, *self.folder.iterdir()]:
                shutil.chown(path, "nobody", "nogroup")
            command = ["runuser", "-u", "nobody", "--", *command]
        subprocess.run([*command, "-t", "-q"], check=True, capture_output=True)
        self.process = subprocess.Popen(command, start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"nginx did not start: {self.error_log()}")

    def error_log(self) -> str:
        path = self.folder / "error.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)  # as with gunicorn: nothing to wait for
            self.process.wait(timeout=10)


@dataclass
class Deployment:
    url: str  # the public URL: nginx
    instances: list[Instance]
    nginx: Nginx
    env: dict[str, str]  # the environment file, as a shell that sourced it has it
    token: str  # an API token of the staff login "desk", for screens

    def screen(self, base: str, last_event_id: int | None = None) -> Stream:
        headers = {"Authorization": f"Bearer {self.token}"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        stream = Stream(base + "/events", headers)
        assert stream.next().event == "stream.open"
        return stream

    def ring(self, base: str | None = None, number: str = "+13125550187") -> str:
        """A voice webhook signed for the public URL, as Twilio sends it; posted to nginx unless
        ``base`` says otherwise."""
        sid = call_sid()
        params = sample("voice-inbound-us", CallSid=sid, From=number)
        headers = {"X-Twilio-Signature": signature(self.url + "/twilio/voice", params)}
        response = requests.post(
            (base or self.url) + "/twilio/voice", data=params, headers=headers, timeout=10
        )
        assert response.status_code == 200, self.logs()
        assert ET.fromstring(response.content).find("Dial") is not None
        return sid

    def flask(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A flask command, from the checkout, in a shell that sourced the environment file."""
        return subprocess.run(
            [str(TOP / ".venv" / "bin" / "flask"), "--app", "wsgi", *args],
            cwd=TOP,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )

    def logs(self) -> str:
        parts = [f"--- {i.url}\n{i.log()[-2000:]}" for i in self.instances]
        return "\n".join([*parts, f"--- nginx\n{self.nginx.error_log()}"])


def _database(engine: str, folder: Path, request: pytest.FixtureRequest) -> str:
    """An empty database, for the guide's `flask db upgrade` to build."""
    if engine == "sqlite":
        return f"sqlite:///{folder / 'callerid.sqlite3'}"
    return request.getfixturevalue("postgres").new_database("deploy")


@pytest.fixture(scope="module", params=ENGINES)
def deployment(request: pytest.FixtureRequest) -> Iterator[Deployment]:
    # Not under pytest's private tmp folder: nginx runs as nobody and must reach its files.
    folder = Path(tempfile.mkdtemp(prefix="callerid-deploy-"))
    folder.chmod(0o755)
    public_port = free_port()
    public_url = f"https://localhost:{public_port}"
    example = env_file(ENV_FILE.read_text())
    mine = {
        "DATABASE_URL": _database(request.param, folder, request),
        "SECRET_KEY": secrets.token_hex(32),
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "CALLERID_PUBLIC_URL": public_url,
    }
    assert mine.keys() <= example.keys()
    settings = {**example, **mine}
    assert settings["CALLERID_TRUSTED_PROXIES"] == "1"
    base = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", "FLASK_SKIP_DOTENV": "1"}
    shell = {**base, **settings, "REQUESTS_CA_BUNDLE": str(folder / "nginx" / "cert.pem")}
    subprocess.run(
        [str(TOP / ".venv" / "bin" / "flask"), "--app", "wsgi", "db", "upgrade"],
        cwd=TOP,
        env=shell,
        check=True,
        capture_output=True,
    )

    unit = unit_settings(UNIT.read_text())
    unit_env = env_file("\n".join(unit["Environment"]))
    instances = []
    nginx = None
    try:
        for name in ("a", "b"):
            # Each its own state folder, as on two hosts: only the database and the file are shared.
            # The metrics folder systemd would make in /run goes there too.
            state = {
                k: v.replace("/var/lib/callerid", str(folder / name)).replace(
                    "/run/callerid-%i", str(folder / name / "metrics")
                )
                for k, v in unit_env.items()
            }
            # Heartbeats every 2 s rather than 15, so that a test sees them cross nginx.
            env = {**base, **settings, **state, "CALLERID_HEARTBEAT": "2"}
            instances.append(Instance(env, folder / name / "gunicorn.log").start())
        (folder / "nginx").mkdir()
        nginx = Nginx(folder / "nginx", public_port, [i.port for i in instances]).start()
        deployment = Deployment(public_url, instances, nginx, shell, "")
        deployment.flask("users", "create", "desk", "--role", "staff", "--password", STAFF_PASSWORD)
        deployment.token = (
            deployment.flask("users", "token", "desk").stdout.strip().splitlines()[-1]
        )
        yield deployment
    finally:
        if nginx is not None:
            nginx.stop()
        for instance in instances:
            instance.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def site(deployment: Deployment, monkeypatch: pytest.MonkeyPatch) -> Deployment:
    """The deployment, with requests trusting its self-signed certificate."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(deployment.nginx.cert))
    return deployment


def events_of(stream: Stream, sid: str, until: str = "call.ended") -> list[Message]:
    """This call's events on ``stream``, up to and including ``until``, within 15 seconds."""
    found = []
    deadline = time.monotonic() + 15
    while True:
        message = stream.next(timeout=max(0.01, deadline - time.monotonic()))
        if isinstance(message.data, dict) and message.data.get("call_sid") == sid:
            found.append(message)
            if message.event == until:
                return found


def test_the_guides_simulated_call_pops_up_on_every_screen(site):
    a, b = site.instances
    screens = [site.screen(site.url), site.screen(site.url), site.screen(a.url), site.screen(b.url)]
    try:
        # The guide's last step: a call from a demo customer, signed and sent as Twilio would,
        # to CALLERID_PUBLIC_URL, that is through nginx.
        done = site.flask("simulate", "call", "+1 415 555 0134", "--fast")
        sid = re.search(r"CallSid (CA\w+)", done.stdout).group(1)
        seen = [[(m.id, m.event) for m in events_of(screen, sid)] for screen in screens]
    finally:
        for screen in screens:
            screen.close()
    assert seen[0][0][1] == "call.ringing"
    assert seen[0][-1][1] == "call.ended"
    assert all(events == seen[0] for events in seen), seen
    for instance in (a, b):  # nginx shared the webhooks out between the two instances
        assert instance.count_in_log("POST /twilio/", 1) >= 1, site.logs()


def test_a_webhook_to_either_instance_reaches_screens_on_both(site):
    a, b = site.instances
    screens = [site.screen(a.url), site.screen(b.url), site.screen(site.url)]
    try:
        # Twilio signs the public URL, wherever the request ends up.
        sids = [site.ring(a.url), site.ring(b.url), site.ring()]
        received = [[m.data["call_sid"] for m in screen.events(3)] for screen in screens]
    finally:
        for screen in screens:
            screen.close()
    assert received == [sids, sids, sids]


def test_a_screen_resumes_on_the_other_instance_from_its_last_event_id(site):
    a, b = site.instances
    first = site.screen(a.url)
    site.ring()
    (seen,) = first.events(1)
    first.close()
    missed = [site.ring(), site.ring(), site.ring()]
    again = site.screen(b.url, last_event_id=seen.id)
    try:
        replayed = again.events(3)
        live = site.ring()
        (arrived,) = again.events(1)
        with pytest.raises(queue.Empty):
            again.events(1, timeout=1.5)  # nothing twice
    finally:
        again.close()
    assert [m.data["call_sid"] for m in replayed] == missed
    assert [m.id for m in replayed] == sorted({m.id for m in replayed})
    assert replayed[0].id > seen.id
    assert arrived.data["call_sid"] == live


class CurlScreen:
    """An event stream over HTTP/2, as a browser tab opens it through nginx."""

    def __init__(self, site: Deployment) -> None:
        self.process = subprocess.Popen(
            ["curl", "-sS", "-N", "-i", "--http2", "--cacert", str(site.nginx.cert)]
            + ["-H", f"Authorization: Bearer {site.token}", site.url + "/events"],
            stdout=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip())

    def wait_for(self, pattern: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            line = self.lines.get(timeout=left)
            if re.search(pattern, line):
                return line
        raise queue.Empty

    def close(self) -> None:
        self.process.kill()
        self.process.wait()


def test_nginx_passes_each_event_on_at_once_without_compression(site):
    response = requests.get(
        site.url + "/events",
        headers={"Authorization": f"Bearer {site.token}", "Accept-Encoding": "gzip"},
        stream=True,
        timeout=10,
    )
    try:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        assert "Content-Encoding" not in response.headers
    finally:
        response.close()

    screen = site.screen(site.url)
    tab = CurlScreen(site)
    try:
        assert tab.wait_for(r"^HTTP/", timeout=10) == "HTTP/2 200"
        tab.wait_for(r"^event: stream.open", timeout=10)
        # A buffering proxy would hold a lone event back until kilobytes more arrive: minutes.
        sid = site.ring()
        rang = time.monotonic()
        (event,) = screen.events(1, timeout=5)
        tab.wait_for(re.escape(sid), timeout=5)
        assert time.monotonic() - rang < 3
        assert event.data["call_sid"] == sid
        # Heartbeats cross nginx too (every 2 s here), so no proxy timeout closes an idle stream.
        assert screen.next(timeout=6, events_only=False).comment == "heartbeat"
        tab.wait_for(r"^: heartbeat", timeout=6)
    finally:
        screen.close()
        tab.close()


def test_nginx_refuses_a_forged_or_misaddressed_webhook(site):
    a, _ = site.instances
    params = sample("voice-inbound-us", CallSid=call_sid())
    forged = {"X-Twilio-Signature": "bm90IGEgcmVhbCBzaWduYXR1cmU="}
    # Signed, but for an address Twilio never calls: the instance's own.
    misaddressed = {"X-Twilio-Signature": signature(a.url + "/twilio/voice", params)}
    for headers in (forged, misaddressed):
        refused = requests.post(
            site.url + "/twilio/voice", data=params, headers=headers, timeout=10
        )
        assert refused.status_code == 403


def test_the_desk_logs_in_and_claims_a_call_through_nginx_on_either_instance(site):
    browser = requests.Session()
    form = browser.get(site.url + "/login", timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    # Over https, every form checks that the Referer is this very site, and the board refuses
    # writes from another Origin: callerid must see the scheme, host and port the browser used.
    logged_in = browser.post(
        site.url + "/login",
        data={"csrf_token": token, "name": "desk", "password": STAFF_PASSWORD, "next": "/"},
        headers={"Referer": site.url + "/login"},
        timeout=10,
    )
    assert logged_in.ok and "<h1" in logged_in.text, logged_in.text[:500]
    assert all(cookie.secure for cookie in browser.cookies)
    a, b = site.instances
    before = [a.log().count("GET /board/live"), b.log().count("GET /board/live")]
    for _ in range(4):  # nginx spreads these over both instances: both accept the session
        live = browser.get(site.url + "/board/live", timeout=10)
        assert live.status_code == 200
    after = [
        a.count_in_log("GET /board/live", before[0] + 1),
        b.count_in_log("GET /board/live", before[1] + 1),
    ]
    assert after[0] > before[0] and after[1] > before[1], site.logs()

    screens = [site.screen(a.url), site.screen(b.url)]
    try:
        sid = site.ring()
        headers = {
            "X-CSRFToken": live.json()["csrf_token"],
            "Origin": site.url,
            "Referer": site.url + "/",
        }
        claimed = browser.post(f"{site.url}/board/calls/{sid}/claim", headers=headers, timeout=10)
        assert claimed.status_code == 200, claimed.text[:500]
        assert claimed.json()["answered_by"] == "desk"
        for screen in screens:
            ringing, answered = screen.events(2)
            assert (ringing.event, answered.event) == ("call.ringing", "call.answered")
            assert ringing.data["call_sid"] == answered.data["call_sid"] == sid
    finally:
        for screen in screens:
            screen.close()


def test_with_one_instance_stopped_nginx_sends_everything_to_the_other(site):
    a, b = site.instances
    a.stop()
    try:
        taken = b.log().count("POST /twilio/voice")
        screen = site.screen(site.url)
        try:
            sids = [site.ring(), site.ring()]
            received = [m.data["call_sid"] for m in screen.events(2)]
        finally:
            screen.close()
        assert received == sids
        assert b.count_in_log("POST /twilio/voice", taken + 2) >= taken + 2, site.logs()
    finally:
        a.start()


def test_a_metrics_token_scrapes_each_instance_and_a_screens_token_is_refused(site):
    # As the guide's Metrics section says: a metrics token, each instance at its own address.
    made = site.flask("tokens", "create", "--kind", "metrics", "desk")
    token = made.stdout.strip().splitlines()[-1]
    for instance in site.instances:
        scraped = requests.get(
            instance.url + "/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        assert scraped.status_code == 200
        assert "callerid_webhook_requests_total{" in scraped.text
        screens = requests.get(
            instance.url + "/metrics", headers={"Authorization": f"Bearer {site.token}"}, timeout=10
        )
        assert screens.status_code == 403
