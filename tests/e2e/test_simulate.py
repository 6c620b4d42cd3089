"""`flask --app wsgi simulate call` as a person runs it, against real gunicorn: the call log shows
what the simulated Twilio said happened."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from callerid.cli.database import upgrade

from ..conftest import ENGINES, _empty_postgres
from ..factories import add_customer, add_user, call_sid, token_for
from ..twilio import AUTH_TOKEN
from .conftest import server_env
from .server import Server

TOP = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).parent / "flask")


@dataclass
class Live:
    server: Server
    api_token: str


@pytest.fixture(scope="module", params=ENGINES)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    """One server per database for this module (starting gunicorn costs seconds); each test
    follows only its own CallSid."""
    folder = tmp_path_factory.mktemp("simulate")
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'live.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres").url
        _empty_postgres(url)
    upgrade(url)
    engine = create_engine(url)
    with Session(engine) as session:
        add_customer(session, "Anna Moors", ("+14155550134",))
        api_token = token_for(session, add_user(session, "desk", "staff"))
    engine.dispose()
    # With the whisper on, as a deployment that has finished its upgrade runs it.
    env = {**server_env(url, folder / "instance"), "CALLERID_WHISPER": "on"}
    server = Server(env, workers=2)
    try:
        server.start()
        yield Live(server, api_token)
    finally:
        server.stop()


def simulate(live: Live, *args: str, token: str = AUTH_TOKEN) -> subprocess.CompletedProcess[str]:
    """Run the command with the server's own environment, as from a second terminal."""
    env = {**live.server.env, "TWILIO_AUTH_TOKEN": token, "FLASK_SKIP_DOTENV": "1"}
    url = live.server.url
    command = [FLASK, "--app", "wsgi", "simulate", "call", *args, "--url", url, "--fast"]
    return subprocess.run(command, cwd=TOP, env=env, capture_output=True, text=True, timeout=60)


def logged(live: Live, sid: str) -> dict | None:
    """The call log's entry for ``sid``, as a script with an API token sees it."""
    headers = {"Authorization": f"Bearer {live.api_token}"}
    response = requests.get(live.server.url + "/api/calls", headers=headers, timeout=5)
    assert response.status_code == 200, response.text
    return next((c for c in response.json()["calls"] if c["call_sid"] == sid), None)


def test_a_simulated_call_is_answered_and_logged_for_the_right_customer(live):
    sid = call_sid()
    result = simulate(live, "(415) 555-0134", "--sid", sid)
    assert result.returncode == 0, result.stderr + live.server.log()[-2000:]
    assert "Twilio would dial +12025550199" in result.stdout
    assert "caller shown as (415) 555-0134" in result.stdout
    call = logged(live, sid)
    assert call is not None and call["customer"]["name"] == "Anna Moors"
    assert (call["status"], call["is_missed"]) == ("completed", False)
    assert call["answered_at"] is not None and call["answered_by"] == "+12025550199"
    assert call["duration"] == 5


def test_the_desk_hears_the_whisper_before_the_caller_is_put_through(live):
    result = simulate(live, "(415) 555-0134")
    assert result.returncode == 0, result.stderr + live.server.log()[-2000:]
    assert "→ POST /twilio/whisper  whisper to the desk" in result.stdout
    assert 'the desk hears, before the caller is put through: "Anna Moors.' in result.stdout


def test_a_simulated_call_nobody_answers_is_missed(live):
    sid = call_sid()
    result = simulate(live, "+1 415 555 0134", "--no-answer", "--sid", sid)
    assert result.returncode == 0, result.stderr + live.server.log()[-2000:]
    assert "DialCallStatus=no-answer" in result.stdout
    assert "Twilio would say" in result.stdout
    assert "whisper" not in result.stdout  # nobody picked up to hear it
    call = logged(live, sid)
    assert call is not None
    assert (call["status"], call["is_missed"], call["answered_at"]) == ("no-answer", True, None)


def test_a_withheld_caller_is_logged_without_a_number(live):
    sid = call_sid()
    result = simulate(live, "anonymous", "--sid", sid)
    assert result.returncode == 0, result.stderr
    assert 'the desk hears, before the caller is put through: "Number withheld."' in result.stdout
    call = logged(live, sid)
    assert call is not None
    assert (call["from"], call["caller_kind"], call["customer"]) == (None, "withheld", None)


def test_a_wrong_token_is_refused_with_a_clear_error(live):
    sid = call_sid()
    result = simulate(live, "+14155550134", "--sid", sid, token="not-the-servers-token")
    assert result.returncode == 1
    assert "signature refused: does TWILIO_AUTH_TOKEN match the server's?" in result.stderr
    assert logged(live, sid) is None
