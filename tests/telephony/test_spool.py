"""The spool keeps what the database could not take, on disk, and gives it back in order, once."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from callerid import calls, create_app, db
from callerid.models import Call, Event
from callerid.telephony import recorder, replayer
from callerid.telephony.spool import FILE, Entry, Spool, SpoolFull, SpoolLocked

from ..conftest import settings_for
from ..factories import add_user, token_for
from ..metrics.scrape import samples as scraped
from ..twilio import post_signed, sample, status_sequence

AT = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)
TOP = Path(__file__).resolve().parents[2]


def entry(n: int, route: str = "status") -> Entry:
    return Entry(route, {"CallSid": f"CA{n:032x}", "CallStatus": "completed"}, AT + timedelta(n))


def sids(entries) -> list[str]:
    return [e.form["CallSid"] for e in entries]


def applying_all(seen: list[Entry]):
    def apply(entries: list[Entry]) -> int:
        seen.extend(entries)
        return len(entries)

    return apply


def test_entries_come_back_in_order_with_what_the_webhook_carried(tmp_path):
    spool = Spool(tmp_path / "spool")
    for n in range(3):
        spool.append(entry(n))
    assert spool.depth() == 3
    # Only its owner may read what callers' numbers the spool holds.
    assert stat.S_IMODE(os.stat(spool.path).st_mode) == 0o600
    seen: list[Entry] = []
    assert spool.replay(applying_all(seen)) == 3
    assert seen == [entry(n) for n in range(3)]
    assert seen[1].received_at == AT + timedelta(1)
    assert spool.depth() == 0
    assert spool.replay(applying_all(seen)) == 0  # nothing is applied twice


def test_what_could_not_be_applied_waits_ahead_of_what_came_meanwhile(tmp_path):
    spool = Spool(tmp_path / "spool")
    for n in range(4):
        spool.append(entry(n))

    def two_then_the_database_goes(entries: list[Entry]) -> int:
        spool.append(entry(9))  # a webhook spooled while the replay runs
        return 2

    assert spool.replay(two_then_the_database_goes) == 2
    assert spool.depth() == 3
    seen: list[Entry] = []
    spool.replay(applying_all(seen))  # the rest of the interrupted replay comes first
    spool.replay(applying_all(seen))
    assert sids(seen) == sids([entry(2), entry(3), entry(9)])


def test_a_replay_that_raises_keeps_every_entry(tmp_path):
    spool = Spool(tmp_path / "spool")
    spool.append(entry(1))

    def broken(entries: list[Entry]) -> int:
        raise RuntimeError("the process is going down")

    with pytest.raises(RuntimeError):
        spool.replay(broken)
    seen: list[Entry] = []
    spool.replay(applying_all(seen))
    assert seen == [entry(1)]


def test_an_append_racing_a_replay_lands_in_the_next_file_never_a_taken_one(tmp_path, monkeypatch):
    spool = Spool(tmp_path / "spool")
    spool.append(entry(1))
    # A writer opens the file, then a replayer takes it away (and deletes it once applied)
    # before the writer gets the lock.
    stale = os.open(spool.path, os.O_WRONLY | os.O_APPEND)
    seen: list[Entry] = []
    spool.replay(applying_all(seen))
    real_open, opened = os.open, []

    def open_once_stale(path, flags, mode=0o777):
        if not opened:
            opened.append(path)
            return stale
        return real_open(path, flags, mode)

    monkeypatch.setattr(os, "open", open_once_stale)
    spool.append(entry(2))
    monkeypatch.undo()
    assert opened  # the writer did start from the stale file
    assert spool.depth() == 1
    spool.replay(applying_all(seen))
    assert seen == [entry(1), entry(2)]


def test_while_the_database_is_away_a_replay_leaves_the_file_as_it_was(tmp_path):
    spool = Spool(tmp_path / "spool")
    for n in range(3):
        spool.append(entry(n))
    spool.replay(lambda entries: 0)  # the first entry found the database away
    taken = spool.folder / "applying.jsonl"
    before = os.stat(taken)
    assert spool.replay(lambda entries: 0) == 0
    # Not rewritten at each try of an outage (it may hold 64 MiB): same file, same bytes.
    after = os.stat(taken)
    assert (after.st_ino, after.st_mtime_ns, after.st_size) == (
        before.st_ino,
        before.st_mtime_ns,
        before.st_size,
    )
    spool.append(entry(9))
    assert spool.depth() == 4
    seen: list[Entry] = []
    assert spool.replay(applying_all(seen)) == 4
    assert sids(seen) == sids([entry(0), entry(1), entry(2), entry(9)])


def test_depth_stays_exact_as_files_grow_are_taken_and_cut_back(tmp_path):
    spool = Spool(tmp_path / "spool")
    for n in range(5):
        spool.append(entry(n))
        assert spool.depth() == n + 1  # counted from where the last count stopped
    spool.replay(lambda entries: 2)
    assert spool.depth() == 3
    spool.append(entry(7))
    assert spool.depth() == 4
    other = Spool(tmp_path / "spool")  # another worker, counting from nothing
    assert other.depth() == 4
    spool.replay(lambda entries: len(entries) - 1)  # the last waits for the next try
    assert (spool.depth(), other.depth()) == (1, 1)
    spool.replay(lambda entries: len(entries))
    assert (spool.depth(), other.depth()) == (0, 0)


def _hold_the_lock(spool: Spool, seconds: float) -> subprocess.Popen:
    """Another process holding the spool's lock for ``seconds``, once it says it holds it."""
    spool.folder.mkdir(mode=0o700, exist_ok=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT);"
            "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True);"
            "time.sleep(float(sys.argv[2]))",
            str(spool.path),
            str(seconds),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_a_worker_waiting_for_the_spools_lock_keeps_serving(tmp_path):
    """Another process holds the spool's lock a while; under gevent, the worker whose request is
    appending goes on answering its other requests meanwhile."""
    program = f"""
from gevent import monkey
monkey.patch_all()
import time
from datetime import UTC, datetime
from pathlib import Path
import gevent
from callerid.telephony.spool import Entry, Spool
from tests.telephony.test_spool import _hold_the_lock

spool = Spool(Path({str(tmp_path / "spool")!r}))
holder = _hold_the_lock(spool, 0.3)
ticks = []
def other_requests():
    while True:
        ticks.append(time.monotonic())
        gevent.sleep(0.01)
ticker = gevent.spawn(other_requests)
started = time.monotonic()
spool.append(Entry("status", {{"CallSid": "CA" + "0" * 32}}, datetime.now(UTC)))
waited = time.monotonic() - started
ticker.kill()
holder.wait()
print(waited, len([t for t in ticks if t >= started]), spool.depth())
"""
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, cwd=TOP
    )
    assert done.returncode == 0, done.stderr
    waited, ticks, depth = done.stdout.split()
    assert float(waited) > 0.2  # it did wait for the other process
    assert int(ticks) >= 5  # and the worker's other greenlets ran meanwhile
    assert int(depth) == 1


def test_a_lock_held_too_long_fails_the_append_instead_of_hanging_the_webhook(tmp_path):
    spool = Spool(tmp_path / "spool")
    holder = _hold_the_lock(spool, 6)
    try:
        started = time.monotonic()
        with pytest.raises(SpoolLocked):
            spool.append(entry(1))
        assert time.monotonic() - started < 4  # failed (503, or the call connects), not hung
    finally:
        holder.kill()
        holder.wait()
    assert spool.depth() == 0


def test_depth_is_exact_when_a_new_file_gets_the_number_of_the_one_taken(tmp_path):
    spool = Spool(tmp_path / "spool")
    spool.append(Entry("status", {"CallSid": "CA" + "0" * 32, "Note": "long" * 40}, AT))
    assert spool.depth() == 1
    # The file is taken away and deleted, and the next one gets the freed inode number (ext4
    # often does) and grows past what was counted of the old one, in shorter lines, before
    # anyone looks again. Made certain here by rewriting the same file in place:
    with open(spool.path, "r+b") as same_number:
        same_number.truncate()
        same_number.write(b"".join(entry(n).to_line() for n in range(3)))
    assert spool.depth() == 3


def test_one_replayer_at_a_time(tmp_path):
    spool = Spool(tmp_path / "spool")
    spool.append(entry(1))
    other = Spool(tmp_path / "spool")  # another worker on the same folder
    inner: list[int] = []

    def apply(entries: list[Entry]) -> int:
        inner.append(other.replay(applying_all([])))
        return len(entries)

    assert spool.replay(apply) == 1
    assert inner == [0]


def test_appends_made_together_share_one_write_and_keep_to_the_budget(tmp_path):
    one = len(entry(0).to_line())
    spool = Spool(tmp_path / "spool", budget=3 * one)
    spool.append(entry(0))
    refused = spool.append_many([entry(1), entry(2), entry(3)])
    assert [type(r) for r in refused] == [type(None), type(None), SpoolFull]
    seen: list[Entry] = []
    spool.replay(applying_all(seen))
    assert sids(seen) == sids([entry(0), entry(1), entry(2)])


def test_past_its_budget_the_spool_refuses_and_keeps_what_it_has(tmp_path):
    spool = Spool(tmp_path / "spool", budget=3 * len(entry(0).to_line()))
    for n in range(3):
        spool.append(entry(n))
    with pytest.raises(SpoolFull):
        spool.append(entry(3))
    assert spool.depth() == 3
    assert FILE in os.listdir(spool.folder)


# What the webhooks spool, and how it is applied: SQLite, with another connection holding the
# write lock as a CLI import would (PostgreSQL's outage is in test_fail_open.py).


def calls_of(session) -> dict[str, Call]:
    session.expire_all()
    return {call.call_sid: call for call in session.scalars(select(Call))}


def events_of(session) -> list[tuple[str, str]]:
    rows = session.execute(select(Event.kind, Event.data).order_by(Event.id))
    return [(kind, json.loads(data)["call_sid"]) for kind, data in rows]


@pytest.fixture
def metrics_token(session) -> str:
    return token_for(session, add_user(session, "ops"), "metrics")


def outcomes(client, token: str) -> dict[tuple[str, str], float]:
    """Every /twilio/* route's outcome counts, as an operator scrapes them from /metrics."""
    text = client.get("/metrics", headers={"Authorization": f"Bearer {token}"}).text
    found = scraped(text)
    return {
        (dict(labels)["route"], dict(labels)["outcome"]): value
        for (name, labels), value in found.items()
        if name == "callerid_webhook_requests_total"
    }


def counted(before, after) -> dict[tuple[str, str], float]:
    return {
        key: after[key] - before.get(key, 0) for key in after if after[key] != before.get(key, 0)
    }


def spool_while_locked(app, client, locked, *requests: tuple[str, dict[str, str]]) -> None:
    """Send the webhooks while the lock is held; leave applying them to the test."""
    for path, params in requests:
        response = post_signed(client, path, params)
        assert response.status_code in (200, 204), response.data
    replayer.stop(app)  # the test applies the spool itself, when it chooses
    locked.rollback()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_call_and_its_end_spooled_are_recorded_in_order_without_a_ringing_card(
    app, client, session, metrics_token, locked
):
    voice = sample("voice-inbound-us")
    completed = status_sequence()[2]
    before = outcomes(client, metrics_token)
    spool_while_locked(app, client, locked, ("/twilio/voice", voice), ("/twilio/status", completed))
    assert recorder.spool_of(app).depth() == 2
    assert counted(before, outcomes(client, metrics_token)) == {
        ("/twilio/voice", "retried"): 1,  # once more, in the time it had left
        ("/twilio/voice", "spooled"): 1,
        ("/twilio/status", "retried"): 1,
        ("/twilio/status", "spooled"): 1,
    }
    assert recorder.replay(app) == (2, None)
    call = calls_of(session)[voice["CallSid"]]
    assert (call.status, call.from_number, call.is_missed) == ("completed", "+13125550187", True)
    # The desk phone rang long ago: screens list the call among recent ones, no claim button.
    assert events_of(session) == [("call.ended", voice["CallSid"])]
    assert recorder.replay(app) == (0, None)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_spooled_ring_pops_a_card_only_while_the_phone_may_still_ring(
    app, client, session, locked, frozen_clock
):
    fresh, late = (sample("voice-inbound-us", CallSid=f"CA{n:032x}") for n in (1, 2))
    spool_while_locked(app, client, locked, ("/twilio/voice", late))
    frozen_clock.shift(timedelta(seconds=61))
    post_signed(client, "/twilio/voice", fresh)  # recorded at once: the lock is gone
    assert recorder.replay(app) == (1, None)
    calls = calls_of(session)
    assert set(calls) == {fresh["CallSid"], late["CallSid"]}
    # The late ring keeps the time it rang, and is in the log without a ringing card.
    assert calls[late["CallSid"]].received_at < calls[fresh["CallSid"]].received_at
    assert events_of(session) == [("call.ringing", fresh["CallSid"])]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_callback_that_can_be_neither_committed_nor_spooled_is_answered_503(
    app, client, session, metrics_token, locked, tmp_path
):
    (tmp_path / "not-a-folder").write_text("")
    app.config["CALLERID_SPOOL_PATH"] = str(tmp_path / "not-a-folder" / "spool")
    app.extensions.pop("callerid.spool", None)
    before = outcomes(client, metrics_token)
    refused = post_signed(client, "/twilio/status", status_sequence()[2])
    assert refused.status_code == 503  # Twilio will send it again
    assert refused.json["error"]["message"] == "The callback could not be stored; send it again."
    # The caller on the line is never refused: the call connects, unrecorded.
    assert ET.fromstring(post_signed(client, "/twilio/voice", sample("voice-inbound-us")).data)
    locked.rollback()
    assert calls_of(session) == {}
    assert counted(before, outcomes(client, metrics_token)) == {
        ("/twilio/status", "retried"): 1,
        ("/twilio/status", "refused"): 1,
        ("/twilio/voice", "retried"): 1,
        ("/twilio/voice", "failed_open"): 1,
    }


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_restarted_process_applies_what_an_earlier_one_spooled(
    app, client, session, locked, database_url
):
    voice = sample("voice-inbound-us")
    spool_while_locked(app, client, locked, ("/twilio/voice", voice))
    db.engine_for(app).dispose()  # that process is gone; its spool stays in the instance folder
    restarted = create_app(settings_for(database_url, Path(app.instance_path)))
    try:
        assert restarted.test_client().get("/healthz").status_code == 200
        deadline = time.monotonic() + 10
        while voice["CallSid"] not in calls_of(session):
            assert time.monotonic() < deadline, "the spool was not applied"
            time.sleep(0.05)
    finally:
        replayer.stop(restarted)
        db.engine_for(restarted).dispose()
    assert events_of(session) == [("call.ringing", voice["CallSid"])]
    assert recorder.spool_of(restarted).depth() == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_operator_sees_what_waits_and_applies_it_from_the_cli(
    app, client, session, locked, runner
):
    voice = sample("voice-inbound-us")
    spool_while_locked(app, client, locked, ("/twilio/voice", voice))
    shown = runner.invoke(args=["spool", "status"])
    assert shown.exit_code == 0
    assert shown.output.startswith("1 webhook(s) wait in the spool (")
    applied = runner.invoke(args=["spool", "replay"])
    assert applied.exit_code == 0, applied.output
    assert applied.output == "Applied 1 webhook(s); 0 still wait.\n"
    assert voice["CallSid"] in calls_of(session)
    assert runner.invoke(args=["spool", "status"]).output.startswith("Nothing waits in the spool")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_an_entry_the_database_refuses_is_set_aside_and_the_rest_applied(app, session):
    spool = recorder.spool_of(app)
    refused = sample("voice-inbound-us", CallSid="CA" + "9" * 80)  # longer than the column
    fine = sample("voice-inbound-us")
    spool.append(Entry("voice", refused, datetime.now(UTC)))
    spool.append(Entry("voice", fine, datetime.now(UTC)))
    assert recorder.replay(app) == (2, None)  # one refused for good, not a jam
    assert set(calls_of(session)) == {fine["CallSid"]}
    kept = (spool.folder / "failed.jsonl").read_bytes().splitlines()
    assert [Entry.from_line(line).form["CallSid"] for line in kept] == [refused["CallSid"]]
    assert spool.depth() == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_entry_that_trips_a_bug_is_set_aside_and_the_rest_applied(app, session):
    spool = recorder.spool_of(app)
    fine = sample("voice-inbound-us")
    spool.append(Entry("voice", {"From": "+13125550187"}, datetime.now(UTC)))  # no CallSid
    spool.append(Entry("voice", fine, datetime.now(UTC)))
    assert recorder.replay(app) == (2, None)  # a KeyError does not jam the queue for good
    assert set(calls_of(session)) == {fine["CallSid"]}
    assert len((spool.folder / "failed.jsonl").read_bytes().splitlines()) == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_while_the_database_is_away_the_replayer_does_not_even_read_the_spool(app, client, locked):
    spool_while_locked(app, client, locked, ("/twilio/voice", sample("voice-inbound-us")))
    locked.execute("BEGIN EXCLUSIVE")  # the lock is back: the database is away again
    applied, waiting_for = recorder.replay(app)
    assert applied == 0 and "locked" in str(waiting_for)
    # Nothing was taken away to be read: the entry is still where the webhook put it.
    assert os.listdir(recorder.spool_of(app).folder) == [FILE]
    assert recorder.spool_of(app).depth() == 1


def test_a_line_torn_by_a_crash_is_skipped_and_the_others_applied(tmp_path):
    spool = Spool(tmp_path / "spool")
    spool.append(entry(1))
    with spool.path.open("ab") as file:
        file.write(b'{"route":"status","form":{"CallSid":"CA1"\n')  # a crash mid-write
    spool.append(entry(2))
    seen: list[Entry] = []
    spool.replay(applying_all(seen))
    assert seen == [entry(1), entry(2)]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_desk_leg_heard_before_its_call_waits_in_the_spool_and_is_applied_after_it(
    app, client, session
):
    voice = sample("voice-inbound-us")
    leg = sample("status-child-leg", CallStatus="in-progress", ParentCallSid=voice["CallSid"])
    assert post_signed(client, "/twilio/status", leg).status_code == 204  # stored: spooled
    replayer.stop(app)
    assert recorder.spool_of(app).depth() == 1
    assert recorder.replay(app) == (1, None)  # its call is still unknown: it waits again
    assert recorder.spool_of(app).depth() == 1
    post_signed(client, "/twilio/voice", voice)
    recorder.replay(app)
    call = calls_of(session)[voice["CallSid"]]
    assert call.answered_at is not None and call.status == "in-progress"
    assert recorder.spool_of(app).depth() == 0


def test_a_dial_action_heard_before_its_call_records_the_call_answered(app, client, session):
    action = sample("dial-action-no-answer", DialCallStatus="completed", DialCallDuration="61")
    response = post_signed(client, "/twilio/status", action)
    assert ET.fromstring(response.data).find("Hangup") is not None
    call = calls_of(session)[action["CallSid"]]
    assert (call.status, call.is_missed, call.duration) == ("completed", False, 61)
    assert [kind for kind, _ in events_of(session)] == ["call.answered", "call.ended"]


def test_two_callbacks_of_one_call_applied_at_once_both_count(app, client, session):
    # One process applies "completed" while another applies the <Dial action> (answered).
    voice = sample("voice-inbound-us")
    post_signed(client, "/twilio/voice", voice)
    sid = voice["CallSid"]
    first = db.new_session(app)
    calls.callback(first, sid, "completed", "US", duration=61, today=db.utcnow().date())
    first.flush()  # holds the call until it commits
    done = threading.Event()

    def other_process() -> None:
        with db.new_session(app) as second:
            db.bound(second, 10)
            calls.dial_finished(
                second, sid, "completed", "US", duration=61, today=db.utcnow().date()
            )
            second.commit()
        done.set()

    thread = threading.Thread(target=other_process)
    thread.start()
    time.sleep(0.2)
    assert not done.is_set()  # it waits for the first, rather than reading its call stale
    first.commit()
    first.close()
    thread.join(10)
    call = calls_of(session)[sid]
    assert (call.status, call.is_missed) == ("completed", False)
    assert call.answered_at is not None


# Two instances with folders of their own keep two spools, and nothing orders one against the
# other: each webhook is applied so that the order cannot matter.
KINDS = {"call.ringing": 0, "call.answered": 1, "call.ended": 2}


@pytest.mark.parametrize("first", ["this instance", "the other"])
def test_two_instances_spools_end_the_same_in_either_order(
    app, session, database_url, tmp_path, first
):
    voice = sample("voice-inbound-us")
    desk_answers = sample("status-child-leg")
    dial = sample("dial-action-no-answer", DialCallStatus="completed", DialCallDuration="42")
    ended = status_sequence()[2]
    at = db.utcnow() - timedelta(minutes=5)  # an outage ago
    other = create_app(settings_for(database_url, tmp_path / "other-instance"))
    try:
        spools = {
            "this instance": (app, [("voice", voice), ("status", desk_answers)]),
            "the other": (other, [("status", ended), ("dial", dial)]),
        }
        for owner, entries in spools.values():
            for route, form in entries:
                recorder.spool_of(owner).append(Entry(route, form, at))
        order = [first, *(name for name in spools if name != first)]
        for name in order:
            owner, entries = spools[name]
            assert recorder.replay(owner) == (len(entries), None)
    finally:
        db.engine_for(other).dispose()
    call = calls_of(session)[voice["CallSid"]]
    assert (call.status, call.is_missed, call.answered_at is not None) == ("completed", False, True)
    seen = [kind for kind, _ in events_of(session)]
    # Screens never see a call go back (answered after ended); the last word is the right card.
    assert seen == sorted(seen, key=KINDS.__getitem__)
    last = json.loads(session.scalars(select(Event.data).order_by(Event.id.desc())).first())
    assert (last["status"], last["is_missed"]) == ("completed", False)
