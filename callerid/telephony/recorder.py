"""Store what a Twilio webhook carried: commit it to the database, or else append it to the
instance's spool. Nothing is acknowledged that is in neither.

Voice webhooks of a process share batches, and so do status callbacks (groupcommit.py; five of
a call's seven requests are callbacks). A batch is tried again as batches.py says, within the
webhook's patience; what is still not recorded is spooled by its own webhook, which answers all
the same.

Over 300 lines because the commit-or-spool decision for every kind of webhook lives in this one
place, so that none of them can acknowledge what is in neither.
"""

from __future__ import annotations

import enum
import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from flask import Flask, abort, has_request_context, request
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session

from .. import calls, clock, db, errors, metrics, ringing
from ..db import utcnow
from ..events import stream
from . import batches, webhooks
from .groupcommit import GroupCommit
from .spool import Entry, Spool

log = logging.getLogger(__name__)
T = TypeVar("T")

# How long each kind of webhook may wait for the database before what it carried is spooled,
# in multiples of CALLERID_DB_TIMEOUT, and at most (seconds). A voice webhook's caller hears
# ringing meanwhile and the card must not lag the phone by more; the <Dial action> and the
# recording action continue a call in progress. A status callback has nobody waiting on it
# (Twilio waits 15 s for our answer).
PATIENCE = {"voice": (1.5, 1.5), "action": (0.8, 0.8), "callback": (5.0, 12.0)}
RETRYABLE = batches.RETRYABLE
# Seconds a webhook waits for its turn to be spooled: a caller on the line waits for the voice
# webhook and the actions; nobody waits on a status callback, and Twilio waits 15 s.
CALLER_WAITING = 0.5
SPOOL_PATIENCE = {"status": 5.0}


class Outcome(enum.Enum):
    RECORDED = "recorded"  # committed to the database
    SPOOLED = "spooled"  # in the spool, applied once the database takes it
    LOST = "lost"  # neither: voice and actions fail open, a status callback answers 503


def patience(app: Flask, kind: str) -> float:
    """Seconds a webhook of ``kind`` ("voice", "action", "callback") waits for the database."""
    times, at_most = PATIENCE[kind]
    return min(at_most, times * float(app.config["CALLERID_DB_TIMEOUT"]))


def spool_of(app: Flask) -> Spool:
    spool = app.extensions.get("callerid.spool")
    if spool is None:
        folder = Path(app.config.get("CALLERID_SPOOL_PATH") or Path(app.instance_path) / "spool")
        budget = int(app.config.get("CALLERID_SPOOL_MAX_MB", 64)) * 1024 * 1024
        spool = app.extensions["callerid.spool"] = Spool(folder, budget)
    return spool


def store_ring(
    app: Flask, form: Mapping[str, str], received_at: datetime
) -> tuple[ringing.Ringing | None, Outcome]:
    """Record a voice webhook's call in this process's next batch, or spool it."""
    try:
        recorded = _rings(app).submit(webhooks.ring_of(form, received_at), patience(app, "voice"))
    except Exception as error:  # whatever failed, the caller must still reach the desk
        batches.failed("/twilio/voice", form, error)
        recorded = None
    if recorded is not None:
        return recorded, Outcome.RECORDED
    return None, _spool(app, Entry("voice", dict(form), received_at))


def store_callback(app: Flask, form: Mapping[str, str], received_at: datetime) -> Outcome:
    """Apply a status callback in this process's next batch of callbacks, or spool it."""
    return _store(app, "callback", Entry("status", dict(form), received_at))


def store_action(app: Flask, route: str, form: Mapping[str, str], received_at: datetime) -> Outcome:
    """Apply the ``<Dial action>`` ("dial") or the voicemail ("voicemail") in this process's
    next batch of actions, or spool it: the caller is waiting on the line for our answer."""
    return _store(app, "action", Entry(route, dict(form), received_at))


def _store(app: Flask, kind: str, entry: Entry) -> Outcome:
    try:
        applied = _group(app, kind).submit(entry, patience(app, kind))
    except Exception as error:  # noqa: BLE001 - whatever failed, the spool may still keep it
        batches.failed(_rule(entry.route), entry.form, error)
        applied = None
    if applied:
        return Outcome.RECORDED
    return _spool(app, entry)


def apply_entry(app: Flask, entry: Entry, ended: frozenset[str] = frozenset()) -> None:
    """Apply one spooled webhook as it would have been applied live. A ring for a call that
    has ended since (``ended``: CallSids whose end is spooled too), or that rang too long ago,
    is recorded without a ringing card."""
    form = entry.form
    if entry.route == "voice":
        quiet = form.get("CallSid") in ended or calls.is_stale(entry.received_at)
        ring = webhooks.ring_of(form, entry.received_at, quiet=quiet)
        _commit(
            app,
            lambda s: ringing.record(s.connection(), [ring], _region(app), today=_today(app)),
            None,
        )
        return
    if entry.route == "sms":
        _commit(app, lambda s: webhooks.apply_text(s, form, _region(app), entry.received_at), None)
        return
    if entry.route == "text_status":
        _commit(app, lambda s: webhooks.apply_text_status(s, form), None)
        return
    if entry.route == "callback_status":
        _commit(app, lambda s: webhooks.apply_callback_status(s, form, _region(app)), None)
        return
    _commit(app, lambda s: _apply(app, s, entry), None)


def store_alone(app: Flask, entry: Entry) -> Outcome:
    """Apply a webhook that is not batched (a text, a call-back's status) in a transaction of
    its own, or spool it when the database cannot take it now."""
    try:
        apply_entry(app, entry)
    except SQLAlchemyError as error:
        # Down, busy or refusing it: the spool keeps it either way; the replayer sets aside
        # what the database refuses for good (failed.jsonl), so nothing is lost or jams.
        errors.log_failure(log, f"/twilio/{entry.route} not stored now", error)
        return _spool(app, entry)
    return Outcome.RECORDED


def keep(app: Flask, entry: Entry, rule: str) -> None:
    """``store_alone`` for a route that answers once what it carried is kept: counted under
    ``rule``, and refused with 503 (Twilio sends it again) when kept nowhere."""
    outcome = store_alone(app, entry)
    if outcome is Outcome.LOST:
        metrics.webhook_outcome(rule, "refused")
        abort(503, description="The webhook could not be stored; send it again.")
    metrics.webhook_outcome(rule, outcome.value)


def replay(app: Flask) -> tuple[int, BaseException | None]:
    """Apply what waits in the spool, in order: how many entries were applied, and the
    database's error if it stopped on one (the rest wait for the next try)."""
    try:
        _reach(app)
    except SQLAlchemyError as error:
        if _database_away(error):
            return 0, error  # not worth reading the spool: it would stop at its first entry
        raise
    stopped_by: list[BaseException] = []

    def apply_all(entries: Sequence[Entry]) -> int:
        ended = frozenset(
            e.form.get("CallSid", "") for e in entries if webhooks.ends_call(e.route, e.form)
        )
        later: list[Entry] = []
        try:
            for done, entry in enumerate(entries):
                try:
                    apply_entry(app, entry, ended)
                except calls.CallNotYetKnown:
                    _later(entry, later)
                except SQLAlchemyError as error:
                    if _database_away(error):
                        stopped_by.append(error)
                        return done
                    _set_aside(app, entry, error)  # it would fail every time: not a queue jam
                except Exception as error:  # noqa: BLE001 - a bug must not jam the queue either
                    _set_aside(app, entry, error)
            return len(entries)
        finally:
            for entry in later:  # behind what came meanwhile; a call's own stay in order
                spool_of(app).append(entry)

    applied = spool_of(app).replay(apply_all)
    return applied, (stopped_by[0] if stopped_by else None)


def _reach(app: Flask) -> None:
    """Raise the database's error when it cannot take writes now: PostgreSQL down (one
    connect, or the pool's ping), or SQLite's write lock held by another."""
    with db.engine_for(app).connect() as connection:
        if connection.dialect.name == "sqlite":
            db.bound(connection, 0.05)
            connection.execute(db.WRITE_LOCK)
            connection.rollback()


def _database_away(error: SQLAlchemyError) -> bool:
    """Down or busy (try the same entry again later), rather than refusing this entry."""
    if batches.is_transient(error):
        return True
    return isinstance(error, DBAPIError) and batches.is_down(error)


def _set_aside(app: Flask, entry: Entry, error: BaseException) -> None:
    call_sid = entry.form.get("CallSid", "?")
    log.error(
        "the spooled /twilio/%s (%s) cannot be applied; kept in %s",
        entry.route,
        call_sid,
        spool_of(app).folder / "failed.jsonl",
        exc_info=error,
    )
    spool_of(app).set_aside([entry])


# How long a desk leg's callback waits in the spool for its call to be recorded.
WAIT_FOR_CALL = timedelta(minutes=2)


def _later(entry: Entry, later: list[Entry]) -> None:
    """Keep a callback whose call is not recorded yet for the next pass, for a while."""
    if utcnow() - entry.received_at < WAIT_FOR_CALL:
        later.append(entry)
        return
    call_sid = entry.form.get("ParentCallSid") or entry.form.get("CallSid", "?")
    log.warning("dropped a desk leg's callback: its call %s was never recorded", call_sid)


def _commit(app: Flask, work: Callable[[Session], T], seconds: float | None) -> T:
    """Run ``work`` in a transaction of its own, its statements bounded by ``seconds``
    (CALLERID_DB_TIMEOUT if None), and commit; then wake this process's streams."""
    with db.new_session(app) as session:
        db.bound(
            session, max(0.05, app.config["CALLERID_DB_TIMEOUT"] if seconds is None else seconds)
        )
        result = work(session)
        session.commit()
    stream.wake(app)
    return result


def _spool(app: Flask, entry: Entry) -> Outcome:
    try:
        refused = _appends(app).submit(entry, SPOOL_PATIENCE.get(entry.route, CALLER_WAITING))
        if refused is not None:
            raise refused
    except OSError as error:  # GroupCommitTimeout is one too
        call_sid = entry.form.get("CallSid", "?")
        errors.log_failure(log, f"could not spool /twilio/{entry.route} ({call_sid})", error)
        return Outcome.LOST
    from .replayer import ensure_running  # the replayer imports this module

    ensure_running(app)
    return Outcome.SPOOLED


def _appends(app: Flask) -> GroupCommit[Entry, OSError | None]:
    # The webhooks a process spools at once share one hold of the spool's lock and one fsync:
    # one at a time, a burst's appends queued behind each other's fsync for seconds.
    group = app.extensions.get("callerid.appends")
    if group is None:
        group = app.extensions["callerid.appends"] = GroupCommit(
            lambda entries, _deadline: spool_of(app).append_many(entries)
        )
    return group


def _rings(app: Flask) -> GroupCommit[ringing.Ring, ringing.Ringing | None]:
    # Made in the worker on first use, never in gunicorn's master before the fork.
    group = app.extensions.get("callerid.ringing")
    if group is None:
        group = app.extensions["callerid.ringing"] = GroupCommit(
            functools.partial(_record_rings, app)
        )
    return group


def _record_rings(
    app: Flask, rings: list[ringing.Ring], deadline: float
) -> list[ringing.Ringing | None]:
    """One transaction for the batch, on a plain Connection: the busiest path pays for no
    Session."""

    def attempt(some: list[ringing.Ring], seconds: float) -> list[ringing.Ringing]:
        with db.engine_for(app).begin() as connection:
            db.bound(connection, seconds)
            return ringing.record(connection, some, _region(app), today=_today(app))

    kind = batches.Kind(attempt, lambda ring: "/twilio/voice", lambda ring: ring.call_sid)
    recorded = batches.record(kind, rings, deadline, _try_for(app))
    if any(one is not None and one.is_new for one in recorded):
        stream.wake(app)
    return recorded


def _group(app: Flask, kind: str) -> GroupCommit[Entry, bool | None]:
    # One group of callbacks and one of actions per process, made in the worker on first use.
    key = f"callerid.{kind}s"
    group = app.extensions.get(key)
    if group is None:
        group = app.extensions[key] = GroupCommit(functools.partial(_apply_batch, app))
    return group


_APPLY = {
    "status": webhooks.apply_status,
    "dial": webhooks.apply_dial,
    "voicemail": webhooks.apply_voicemail,
}


def _apply_batch(app: Flask, entries: list[Entry], deadline: float) -> list[bool | None]:
    """One transaction for the batch, in the order of the calls they lock (a desk leg's is its
    parent; a call's own keep their order), so that two batches cannot deadlock. Batched, a
    burst of callbacks and actions holds one pooled connection per process, not one each."""

    def attempt(some: list[Entry], seconds: float) -> list[bool]:
        order = sorted(range(len(some)), key=lambda i: _locked_call(some[i]))
        applied = [False] * len(some)

        def apply_all(session: Session) -> None:
            for i in order:
                try:
                    _apply(app, session, some[i])
                    applied[i] = True
                except calls.CallNotYetKnown:
                    pass  # its webhook spools it, to be applied after its call

        _commit(app, apply_all, seconds)
        return applied

    batch = batches.Kind(
        attempt, lambda e: f"/twilio/{e.route}", lambda e: e.form.get("CallSid", "?")
    )
    return batches.record(batch, entries, deadline, _try_for(app))


def _apply(app: Flask, session: Session, entry: Entry) -> None:
    if entry.route == "dial":
        # The call ended when Twilio asked, not when a spooled copy is applied.
        form, region, today = entry.form, _region(app), _today(app)
        webhooks.apply_dial(session, form, region, today, at=entry.received_at)
        return
    _APPLY[entry.route](session, entry.form, _region(app), _today(app))


def _locked_call(entry: Entry) -> str:
    return entry.form.get("ParentCallSid") or entry.form.get("CallSid", "")


def _try_for(app: Flask) -> float:
    """Seconds a whole batch's try may take: half of CALLERID_DB_TIMEOUT, so that a try that
    times out on a lock leaves time for the next."""
    return float(app.config["CALLERID_DB_TIMEOUT"]) / 2


def _rule(route: str) -> str:
    # The URL rule the request came in on: /twilio/status also carries older TwiML's actions.
    if has_request_context() and request.url_rule is not None:
        return request.url_rule.rule
    return f"/twilio/{route}"


def _region(app: Flask) -> str:
    return app.config["CALLERID_DEFAULT_REGION"]


def _today(app: Flask) -> date:
    return clock.business_today(app.config)
