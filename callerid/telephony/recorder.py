"""Store what a Twilio webhook carried: commit it to the database, or else append it to the
instance's spool. Nothing is acknowledged that is in neither.

Voice webhooks of a process share batches (groupcommit.py). A batch that fails on a deadlock, a
serialisation failure, a lock or statement timeout, or SQLite's busy lock is retried once whole,
then webhook by webhook, within the webhook's patience; what is still not recorded is spooled by
its own webhook, which answers its TwiML all the same.
"""

from __future__ import annotations

import enum
import functools
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, has_request_context, request
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session

from .. import calls, db, errors, metrics, ringing
from ..events import stream
from . import webhooks
from .groupcommit import GroupCommit, GroupCommitTimeout
from .spool import Entry, Spool

log = logging.getLogger(__name__)
T = TypeVar("T")

# How long each kind of webhook may wait for the database before what it carried is spooled,
# in multiples of CALLERID_DB_TIMEOUT, and at most (seconds). A voice webhook's caller hears
# ringing meanwhile and the card must not lag the phone by more; the <Dial action> and the
# recording action continue a call in progress. A status callback has nobody waiting on it
# (Twilio waits 15 s for our answer).
PATIENCE = {"voice": (1.5, 1.5), "action": (0.8, 0.8), "callback": (5.0, 12.0)}
# PostgreSQL's deadlock, serialisation failure, lock timeout and statement timeout: the same
# work may well succeed when tried again.
RETRYABLE = {"40P01", "40001", "55P03", "57014"}


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
        recorded = _batches(app).submit(webhooks.ring_of(form, received_at), patience(app, "voice"))
    except Exception as error:  # whatever failed, the caller must still reach the desk
        _failed("voice", form, error)
        recorded = None
    if recorded is not None:
        return recorded, Outcome.RECORDED
    return None, _spool(app, Entry("voice", dict(form), received_at))


def store(
    app: Flask,
    route: str,
    form: Mapping[str, str],
    received_at: datetime,
    apply: Callable[[Session, Mapping[str, str], str], T],
    kind: str,
) -> tuple[T | None, Outcome]:
    """Apply a callback or an action in its own transaction within the ``kind``'s patience,
    retried once after a transient failure (a callback racing its own voice webhook's open
    transaction); failing that, spool it."""
    start, wait = time.monotonic(), patience(app, kind)
    deadline = start + wait
    for attempt in (1, 2):
        # The first try gets half the patience, so that a lock it timed out on leaves time.
        until = start + wait / 2 if attempt == 1 else deadline
        try:
            return _commit(app, lambda s: apply(s, form, _region(app)), until), Outcome.RECORDED
        except SQLAlchemyError as error:
            if attempt == 1 and _transient(error) and time.monotonic() < deadline:
                metrics.webhook_outcome(_rule(route), "retried")
                continue
            _failed(route, form, error)
            break
    return None, _spool(app, Entry(route, dict(form), received_at))


def apply_entry(app: Flask, entry: Entry, ended: frozenset[str] = frozenset()) -> None:
    """Apply one spooled webhook as it would have been applied live. A ring for a call that
    has ended since (``ended``: CallSids whose end is spooled too), or that rang too long ago,
    is recorded without a ringing card."""
    form = entry.form
    if entry.route == "voice":
        quiet = form.get("CallSid") in ended or calls.is_stale(entry.received_at)
        ring = webhooks.ring_of(form, entry.received_at, quiet=quiet)
        _commit(app, lambda s: ringing.record(s.connection(), [ring], _region(app)), None)
        return
    apply = {
        "status": webhooks.apply_status,
        "dial": webhooks.apply_dial,
        "voicemail": webhooks.apply_voicemail,
    }[entry.route]
    _commit(app, lambda s: apply(s, form, _region(app)), None)


def replay(app: Flask) -> tuple[int, BaseException | None]:
    """Apply what waits in the spool, in order: how many entries were applied, and the
    database's error if it stopped on one (the rest wait for the next try)."""
    stopped_by: list[BaseException] = []

    def apply_all(entries: Sequence[Entry]) -> int:
        ended = frozenset(
            e.form.get("CallSid", "") for e in entries if webhooks.ends_call(e.route, e.form)
        )
        for done, entry in enumerate(entries):
            try:
                apply_entry(app, entry, ended)
            except SQLAlchemyError as error:
                stopped_by.append(error)
                return done
        return len(entries)

    applied = spool_of(app).replay(apply_all)
    return applied, (stopped_by[0] if stopped_by else None)


def _commit(app: Flask, work: Callable[[Session], T], deadline: float | None) -> T:
    """Run ``work`` in a transaction of its own and commit; then wake this process's streams."""
    with db.new_session(app) as session:
        seconds = (
            app.config["CALLERID_DB_TIMEOUT"] if deadline is None else deadline - time.monotonic()
        )
        db.bound(session, max(0.05, seconds))
        result = work(session)
        session.commit()
    stream.wake(app)
    return result


def _spool(app: Flask, entry: Entry) -> Outcome:
    try:
        spool_of(app).append(entry)
    except OSError as error:
        call_sid = entry.form.get("CallSid", "?")
        errors.log_failure(log, f"could not spool /twilio/{entry.route} ({call_sid})", error)
        return Outcome.LOST
    from .replayer import ensure_running  # the replayer imports this module

    ensure_running(app)
    return Outcome.SPOOLED


def _batches(app: Flask) -> GroupCommit[ringing.Ring, ringing.Ringing | None]:
    # Made in the worker on first use, never in gunicorn's master before the fork.
    batches = app.extensions.get("callerid.ringing")
    if batches is None:
        batches = app.extensions["callerid.ringing"] = GroupCommit(
            functools.partial(_record_batch, app)
        )
    return batches


def _record_batch(app: Flask, rings: list[ringing.Ring]) -> list[ringing.Ringing | None]:
    """One transaction for the batch (a plain Connection: the busiest path pays for no Session).
    A transient failure is retried once whole; then, as after a failure on one webhook's data,
    the rings are tried one at a time, so one cannot cost the others their record. A database
    that is down fails them all at once. Whatever is not recorded comes back as None."""
    deadline = time.monotonic() + patience(app, "voice")
    try:
        recorded: list[ringing.Ringing | None] = list(_transaction(app, rings, deadline))
    except DBAPIError as first:
        if _down(first):
            raise
        recorded = _retried(app, rings, deadline, first)
    if any(one is not None and one.is_new for one in recorded):
        stream.wake(app)
    return recorded


def _retried(
    app: Flask, rings: list[ringing.Ring], deadline: float, error: DBAPIError
) -> list[ringing.Ringing | None]:
    """Once more whole after a transient failure, then (or after any other) ring by ring,
    while time is left. Each ring tried again is counted as retried, once."""
    counted = False
    if _transient(error) and len(rings) > 1 and time.monotonic() < deadline:
        _count_retried(len(rings))
        counted = True
        try:
            return list(_transaction(app, rings, deadline))
        except DBAPIError as again:
            if _down(again):
                raise
    results = []
    for index, ring in enumerate(rings):
        # A fair share of the time left each: one ring stuck on a lock cannot use it all.
        share = (deadline - time.monotonic()) / (len(rings) - index)
        results.append(_alone(app, ring, time.monotonic() + share, error, count=not counted))
    return results


def _alone(
    app: Flask, ring: ringing.Ring, deadline: float, batch_error: DBAPIError, *, count: bool
) -> ringing.Ringing | None:
    """One ring in a transaction of its own, if time is left; None (logged) when it failed."""
    error: SQLAlchemyError = batch_error
    if deadline - time.monotonic() > 0.01:
        if count:
            _count_retried(1)
        try:
            return _transaction(app, [ring], deadline)[0]
        except SQLAlchemyError as own:
            error = own
    _failed("voice", {"CallSid": ring.call_sid}, error)
    return None


def _count_retried(rings: int) -> None:
    for _ in range(rings):
        metrics.webhook_outcome("/twilio/voice", "retried")


def _transaction(app: Flask, rings: list[ringing.Ring], deadline: float) -> list[ringing.Ringing]:
    # A whole batch's try gets at most half of CALLERID_DB_TIMEOUT, so that a lock that times
    # it out leaves time to try again whole, then ring by ring (the webhook's patience is 1.5
    # times that).
    seconds = min(deadline - time.monotonic(), float(app.config["CALLERID_DB_TIMEOUT"]) / 2)
    with db.engine_for(app).begin() as connection:
        db.bound(connection, max(0.05, seconds))
        return ringing.record(connection, rings, _region(app))


def _transient(error: BaseException) -> bool:
    """A failure the same work may not meet again: deadlock, serialisation, lock or statement
    timeout, SQLite's busy lock, a pool that was momentarily empty."""
    if isinstance(error, GroupCommitTimeout | TimeoutError):
        return True
    original = getattr(error, "orig", None)
    if getattr(original, "sqlstate", None) in RETRYABLE:
        return True
    text = str(original).lower() if original is not None else ""
    return type(original).__module__ == "sqlite3" and ("locked" in text or "busy" in text)


def _down(error: DBAPIError) -> bool:
    """The database is out of reach (not merely busy): no retry can help now."""
    return bool(error.connection_invalidated) or (
        errors.is_overload(error) and not _transient(error)
    )


def _failed(route: str, form: Mapping[str, Any], error: BaseException) -> None:
    call_sid = form.get("CallSid", "?")
    what = "database failure" if isinstance(error, SQLAlchemyError) else "failure"
    errors.log_failure(log, f"{what} on /twilio/{route} ({call_sid})", error)


def _rule(route: str) -> str:
    # The URL rule the request came in on: /twilio/status also carries older TwiML's actions.
    if has_request_context() and request.url_rule is not None:
        return request.url_rule.rule
    return f"/twilio/{route}"


def _region(app: Flask) -> str:
    return app.config["CALLERID_DEFAULT_REGION"]
