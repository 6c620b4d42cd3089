"""The recipes of docs/phone-systems.md against real gunicorn: the AGI script run as Asterisk
runs it (its environment, then answers to its commands, on stdin), the look-up URL the dialplan
builds (the dialplan itself is not run: Asterisk is not packaged here), and the curl example."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from callerid.models import Call

from ..factories import add_customer, add_user, token_for
from ..pg import free_port
from .server import TOP

ASTERISK = TOP / "config" / "phone" / "asterisk"
AGI = ASTERISK / "callerid-events.agi"
DIALPLAN = ASTERISK / "extensions_callerid.conf"
CURL_EXAMPLE = TOP / "config" / "phone" / "callerid-event.sh"
LINE = "+12025550143"


@pytest.fixture(scope="module")
def db(module_database_url: str) -> Iterator[Session]:
    engine = create_engine(module_database_url)
    with Session(engine, expire_on_commit=False) as session:
        yield session
    engine.dispose()


@pytest.fixture(scope="module")
def pbx(db: Session) -> str:
    add_customer(db, "Eleanor Whitfield", numbers=("+14155550134",), is_vip=True)
    return token_for(db, add_user(db, "freepbx"), kind="phone", source="FreePBX")


def call_of(db: Session, call_id: str) -> Call:
    db.expire_all()
    return db.scalars(select(Call).where(Call.source_call_id == call_id)).one()


def run_agi(url: str, token: str, *args: str, uniqueid: str, callerid: str = "") -> list[str]:
    """The script as Asterisk starts it: agi_* lines, a blank line, then one answer per command
    (GET VARIABLE CALLERID_URL, CALLERID_TOKEN, CALLERID_TIMEOUT, then VERBOSE). Its commands,
    one per line."""
    environment = {
        "agi_request": "callerid-events.agi",
        "agi_channel": "PJSIP/trunk-00000001",
        "agi_uniqueid": uniqueid,
        "agi_callerid": callerid or "unknown",
        "agi_calleridname": "unknown",
        "agi_dnid": LINE,
        "agi_context": "callerid-inbound",
        "agi_extension": "s",
        **{f"agi_arg_{i}": arg for i, arg in enumerate(args, start=1)},
    }
    answers = [f"200 result=1 ({url})", f"200 result=1 ({token})", "200 result=0", "200 result=1"]
    stdin = "".join(f"{k}: {v}\n" for k, v in environment.items()) + "\n" + "\n".join(answers)
    done = subprocess.run(
        [sys.executable, str(AGI)], input=stdin + "\n", capture_output=True, text=True, timeout=20
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_the_agi_script_reports_ringing_answered_and_ended(module_server, db, pbx):
    url = module_server.url
    said = run_agi(url, pbx, "ringing", uniqueid="1733412000.7", callerid="+14155550134")
    assert said[:3] == [
        "GET VARIABLE CALLERID_URL",
        "GET VARIABLE CALLERID_TOKEN",
        "GET VARIABLE CALLERID_TIMEOUT",
    ]
    assert said[3] == 'VERBOSE "callerid: ringing 1733412000.7: 200" 3'
    # On the answering phone's channel: its own uniqueid, the inbound call's id as argument.
    run_agi(url, pbx, "answered", "1733412000.7", "101", uniqueid="1733412000.8")
    run_agi(url, pbx, "ended", "1733412000.7", uniqueid="1733412000.7")
    call = call_of(db, "1733412000.7")
    assert (call.source, call.status, call.answered_by, call.is_missed) == (
        "FreePBX",
        "completed",
        "101",
        False,
    )
    assert call.customer.name == "Eleanor Whitfield" and call.line.number == LINE


def test_the_agi_script_never_fails_the_call_when_callerid_is_away(pbx):
    away = f"http://127.0.0.1:{free_port()}"
    said = run_agi(away, pbx, "ringing", uniqueid="1733412001.1", callerid="+14155550134")
    assert said[-1].startswith('VERBOSE "callerid: ringing 1733412001.1 not sent:')


def test_the_agi_script_says_when_callerid_refuses_the_event(module_server, pbx):
    said = run_agi(module_server.url, pbx, "ringing", "x" * 121, uniqueid="1.2")
    assert said[-1].startswith('VERBOSE "callerid: ringing ' + "x" * 121 + " refused: 400")


def test_the_dialplans_lookup_puts_the_display_name_on_the_phone(module_server, pbx):
    """The URL and header the dialplan hands CURL(), built as Asterisk builds them."""
    dialplan = DIALPLAN.read_text()
    assert "Set(CURLOPT(conntimeout)=1)" in dialplan
    assert "Set(CURLOPT(httptimeout)=1)" in dialplan
    header = re.search(r"CURLOPT\(httpheader\)=(.+)\)$", dialplan, re.M).group(1)
    url = re.search(r"\$\{CURL\((.+)\)\}\)$", dialplan, re.M).group(1)
    values = {
        "CALLERID_URL": module_server.url,
        "CALLERID_TOKEN": pbx,
        "URIENCODE(${CALLERID(num)})": "%2B14155550134",
    }
    for name, value in values.items():
        url = url.replace("${" + name + "}", value)
        header = header.replace("${" + name + "}", value)
    key, _, value = header.partition(": ")
    shown = requests.get(url, headers={key: value}, timeout=1)
    assert (shown.status_code, shown.text) == (200, "E.Whitfield VIP")


def run_curl_example(url: str, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "CALLERID_URL": url, "CALLERID_TOKEN": token}
    return subprocess.run(
        ["sh", str(CURL_EXAMPLE), *args], env=env, capture_output=True, text=True, timeout=20
    )


def test_the_curl_example_reports_a_missed_call(module_server, db, pbx):
    rang = run_curl_example(module_server.url, pbx, "ringing", "c-1", 'Bob "B" Hale', LINE)
    assert rang.returncode == 0, rang.stderr
    ended = run_curl_example(module_server.url, pbx, "ended", "c-1")
    assert ended.returncode == 0 and '"is_missed":true' in ended.stdout.replace(" ", "")
    call = call_of(db, "c-1")
    assert (call.raw_from, call.is_missed) == ('Bob "B" Hale', True)
    refused = run_curl_example(module_server.url, pbx, "hung-up", "c-1")
    assert refused.returncode == 22 and '"field":"event"' in refused.stdout.replace(" ", "")
