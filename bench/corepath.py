"""What the voice webhook's database step costs, as the app runs it and in other spellings.

    .venv/bin/python -m bench.corepath [--customers 1000 --calls 5000] [--backend both]

``ringing.record`` on a Connection is what the voice webhook runs (SQL written once, reads
before writes), one call per transaction when webhooks come one at a time and several when they
arrive together (group commit: the "x 8" column); ``calls.record_ring`` is the same through a
Session, as status callbacks use it. The other
variants are sketches kept for comparison. They record the same call (new
CallSid, caller found by number, line, a ``call.ringing`` event carrying the card with the
customer's call count, last three calls and their notes) and commit; the table compares CPU
microseconds per call. The Core variant: ``INSERT ... ON CONFLICT (call_sid) DO NOTHING RETURNING
id`` instead of a SELECT then an ORM flush, lines cached in the process, rows instead of objects,
one statement for the count and the last call, the event inserted with RETURNING. Two more
variants run the same SQL written once: through SQLAlchemy (``text()``) and handed straight to
the driver (``exec_driver_sql``).
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, and_, bindparam, func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import sessionmaker

from callerid.db import UTCDateTime

from . import report, twilio
from .dataset import Size
from .webhook import callers_for
from .workspace import Workspace, add_common_arguments, chosen_backends, describe

TO = "+12025550143"


def session_step(engine: Engine, callers: list[str], sids: list[str]) -> float:
    """CPU seconds for ``calls.record_ring`` + commit per call: through a Session, as status
    callbacks record a call whose voice webhook never reached us (plus loading the Call model)."""
    from callerid import calls, db, ringing

    sessions = sessionmaker(engine, expire_on_commit=False)
    today = db.utcnow().date()
    started = time.thread_time()
    for call_sid, caller in zip(sids, callers, strict=False):
        with sessions() as session:
            db.bound(session, 1.0)
            calls.record_ring(session, ringing.Ring(call_sid, caller, TO), "US", today=today)
            session.commit()
    return (time.thread_time() - started) / len(sids)


def app_step(engine: Engine, callers: list[str], sids: list[str], batch: int = 1) -> float:
    """CPU seconds per call for what the voice webhook runs: ``ringing.record`` on a
    Connection, ``batch`` calls per transaction."""
    from callerid import db, ringing

    rings = [ringing.Ring(sid, caller, TO) for sid, caller in zip(sids, callers, strict=False)]
    today = db.utcnow().date()
    started = time.thread_time()
    for start in range(0, len(rings), batch):
        with engine.begin() as connection:
            db.bound(connection, 1.0)
            ringing.record(connection, rings[start : start + batch], "US", today=today)
    return (time.thread_time() - started) / len(rings)


def core_step(engine: Engine, callers: list[str], sids: list[str]) -> float:
    """CPU seconds per call for the same work in Core (see the module's docstring)."""
    from callerid import directory, numbers
    from callerid.db import iso, table_of, utcnow
    from callerid.models import Call, Customer, Event, Line, Note, PhoneNumber

    calls_t, events_t = table_of(Call), table_of(Event)
    upsert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    lines: dict[str, tuple[int, str, str]] = {}
    with engine.connect() as connection:
        for row in connection.execute(select(Line.id, Line.number, Line.label)):
            lines[row.number] = tuple(row)
    started = time.thread_time()
    for call_sid, raw_from in zip(sids, callers, strict=False):
        caller = numbers.normalise(raw_from, "US")
        to = numbers.normalise(TO, "US")
        line = lines.get(to.number or TO)
        with engine.begin() as connection:
            customers = (
                connection.execute(
                    select(Customer.__table__)
                    .join(PhoneNumber.__table__, PhoneNumber.customer_id == Customer.id)
                    .where(PhoneNumber.number == caller.number)
                    .order_by(Customer.id)
                ).all()
                if caller.is_number
                else []
            )
            lead = customers[0] if customers else None
            now = utcnow()
            call_id = connection.execute(
                upsert(calls_t)
                .values(
                    call_sid=call_sid,
                    from_number=caller.number,
                    raw_from=raw_from,
                    caller_kind=caller.kind,
                    line_id=line[0] if line else None,
                    direction="inbound",
                    status="ringing",
                    customer_id=lead.id if lead else None,
                    matched_by=("number" if len(customers) == 1 else "shared") if lead else None,
                    is_missed=False,
                    answered_by="",
                    outcome="",
                    received_at=now,
                    called_back_by="",
                )
                .on_conflict_do_nothing(index_elements=["call_sid"])
                .returning(calls_t.c.id)
            ).scalar()
            customer: dict[str, Any] | None = None
            if lead is not None:
                mine = and_(Call.customer_id == lead.id, Call.id != call_id)
                count = connection.execute(select(func.count()).where(mine)).scalar()
                recent = connection.execute(
                    select(Call.id, Call.call_sid, Call.received_at, Call.status, Call.is_missed)
                    .where(mine)
                    .order_by(Call.received_at.desc())
                    .limit(3)
                ).all()
                notes = connection.execute(
                    select(Note.call_id, Note.body).where(Note.call_id.in_([r.id for r in recent]))
                ).all()
                customer = {
                    "id": lead.id,
                    "name": lead.name,
                    "vip": lead.is_vip,
                    "notes": lead.notes,
                    "calls_count": count,
                    "last_call_at": iso(recent[0].received_at) if recent else None,
                    "recent_calls": [
                        {
                            "call_sid": r.call_sid,
                            "received_at": iso(r.received_at),
                            "status": r.status,
                            "notes": [n.body for n in notes if n.call_id == r.id],
                        }
                        for r in recent
                    ],
                }
            card = {
                "call_sid": call_sid,
                "status": "ringing",
                "from": caller.number,
                "caller": numbers.describe(caller.number, "US") if caller.number else None,
                "line": {"number": line[1], "label": line[2]} if line else None,
                "greeting": directory.greeting(lead) if lead else "Thank you for calling",
                "customer": customer,
                "received_at": iso(now),
            }
            connection.execute(
                insert(events_t)
                .values(kind="call.ringing", data=json.dumps(card), created_at=now)
                .returning(events_t.c.id)
            ).scalar()
    return (time.thread_time() - started) / len(sids)


# The same statements written once: no statement building or cache-key work per call.
_OWNERS = text(
    "SELECT c.id, c.name, c.salutation, c.preferred_name, c.do_not_greet, c.is_vip, c.notes "
    "FROM customers c JOIN phone_numbers p ON p.customer_id = c.id WHERE p.number = :number "
    "ORDER BY c.id"
)
_INSERT_CALL = text(
    "INSERT INTO calls (call_sid, from_number, raw_from, caller_kind, line_id, direction, status, "
    "customer_id, matched_by, is_missed, answered_by, outcome, received_at, called_back_by) "
    "VALUES (:call_sid, :from_number, :raw_from, :caller_kind, :line_id, 'inbound', 'ringing', "
    ":customer_id, :matched_by, :false, '', '', :received_at, '') "
    "ON CONFLICT (call_sid) DO NOTHING RETURNING id"
).bindparams(bindparam("received_at", type_=UTCDateTime()))
_HISTORY = text(
    "SELECT id, call_sid, received_at, status, is_missed FROM calls "
    "WHERE customer_id = :customer AND id != :call ORDER BY received_at DESC LIMIT 3"
).columns(received_at=UTCDateTime())
_COUNT = text("SELECT count(*) FROM calls WHERE customer_id = :customer AND id != :call")
_INSERT_EVENT = text(
    "INSERT INTO events (kind, data, created_at) VALUES ('call.ringing', :data, :created_at) "
    "RETURNING id"
).bindparams(bindparam("created_at", type_=UTCDateTime()))


def _driver_sql(statement: Any, dialect: str) -> str:
    """The SQL of a ``text()`` constant in the driver's own parameter style."""
    sql = str(statement)
    return re.sub(r":(\w+)", r"%(\1)s", sql) if dialect == "postgresql" else sql


def prebuilt_step(
    engine: Engine, callers: list[str], sids: list[str], *, driver: bool = False
) -> float:
    """CPU seconds per call with statements written once as ``text()`` constants, executed by
    SQLAlchemy (``driver=False``) or handed to the driver as they are (``exec_driver_sql``:
    no compilation, no cache key, no result processing)."""
    from callerid import numbers
    from callerid.db import iso, utcnow
    from callerid.models import Line

    dialect = engine.dialect.name
    sql = {
        name: _driver_sql(statement, dialect)
        for name, statement in (
            ("owners", _OWNERS),
            ("call", _INSERT_CALL),
            ("count", _COUNT),
            ("history", _HISTORY),
            ("event", _INSERT_EVENT),
        )
    }

    def run(connection: Any, name: str, statement: Any, params: dict[str, Any]) -> Any:
        if not driver:
            return connection.execute(statement, params)
        if dialect == "sqlite":
            params = {k: _sqlite_value(v) for k, v in params.items()}
        return connection.exec_driver_sql(sql[name], params)

    lines: dict[str, tuple[int, str, str]] = {}
    with engine.connect() as connection:
        for row in connection.execute(select(Line.id, Line.number, Line.label)):
            lines[row.number] = tuple(row)
    started = time.thread_time()
    for call_sid, raw_from in zip(sids, callers, strict=False):
        caller = numbers.normalise(raw_from, "US")
        line = lines.get(numbers.normalise(TO, "US").number or TO)
        with engine.begin() as connection:
            owners = (
                run(connection, "owners", _OWNERS, {"number": caller.number}).all()
                if caller.is_number
                else []
            )
            lead = owners[0] if owners else None
            now = utcnow()
            call_id = run(
                connection,
                "call",
                _INSERT_CALL,
                {
                    "call_sid": call_sid,
                    "from_number": caller.number,
                    "raw_from": raw_from,
                    "caller_kind": caller.kind,
                    "line_id": line[0] if line else None,
                    "customer_id": lead[0] if lead else None,
                    "matched_by": ("number" if len(owners) == 1 else "shared") if lead else None,
                    "false": False,
                    "received_at": now,
                },
            ).scalar()
            customer = None
            if lead is not None:
                mine = {"customer": lead[0], "call": call_id}
                count = run(connection, "count", _COUNT, mine).scalar()
                recent = run(connection, "history", _HISTORY, mine).all()
                customer = {
                    "id": lead[0],
                    "name": lead[1],
                    "vip": bool(lead[5]),
                    "notes": lead[6],
                    "calls_count": count,
                    "last_call_at": _text_time(recent[0][2]) if recent else None,
                    "recent_calls": [
                        {"call_sid": r[1], "received_at": _text_time(r[2])} for r in recent
                    ],
                }
            card = {
                "call_sid": call_sid,
                "status": "ringing",
                "from": caller.number,
                "caller": numbers.describe(caller.number, "US") if caller.number else None,
                "line": {"number": line[1], "label": line[2]} if line else None,
                "customer": customer,
                "received_at": iso(now),
            }
            run(connection, "event", _INSERT_EVENT, {"data": json.dumps(card), "created_at": now})
    return (time.thread_time() - started) / len(sids)


def _sqlite_value(value: Any) -> Any:
    # What UTCDateTime stores on SQLite: naive UTC text with microseconds.
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _text_time(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{value[:10]}T{value[11:19]}Z" if value else None


def run_backend(args: argparse.Namespace, workspace: Workspace, backend: str) -> dict[str, Any]:
    from callerid.db import make_engine

    size = Size(args.customers, args.calls)
    url = workspace.copy(backend, size, f"corepath-{backend}")
    callers = callers_for(url, args.requests)
    engine = make_engine(url)
    try:
        session_step(engine, callers[:200], twilio.call_sids(200))  # warm-up
        app_step(engine, callers[:200], twilio.call_sids(200))
        core_step(engine, callers[:200], twilio.call_sids(200))
        session = [session_step(engine, callers, twilio.call_sids(args.requests)) for _ in range(3)]
        app = [app_step(engine, callers, twilio.call_sids(args.requests)) for _ in range(3)]
        grouped = [
            app_step(engine, callers, twilio.call_sids(args.requests), batch=8) for _ in range(3)
        ]
        core = [core_step(engine, callers, twilio.call_sids(args.requests)) for _ in range(3)]
        prebuilt_step(engine, callers[:200], twilio.call_sids(200))
        written = [
            prebuilt_step(engine, callers, twilio.call_sids(args.requests)) for _ in range(3)
        ]
        prebuilt_step(engine, callers[:200], twilio.call_sids(200), driver=True)
        raw = [
            prebuilt_step(engine, callers, twilio.call_sids(args.requests), driver=True)
            for _ in range(3)
        ]
    finally:
        engine.dispose()
    return {
        "backend": backend,
        "requests": args.requests,
        "session_us": round(min(session) * 1e6, 1),
        "app_us": round(min(app) * 1e6, 1),
        "grouped_us": round(min(grouped) * 1e6, 1),
        "core_us": round(min(core) * 1e6, 1),
        "prebuilt_us": round(min(written) * 1e6, 1),
        "driver_us": round(min(raw) * 1e6, 1),
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench.corepath", description=__doc__)
    add_common_arguments(parser)
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"size": describe(args), "runs": []}
    with Workspace(args.workdir) as workspace:
        for backend in chosen_backends(args):
            results["runs"].append(run_backend(args, workspace, backend))
    rows = [
        [
            run["backend"],
            run["app_us"],
            run["grouped_us"],
            run["session_us"],
            run["core_us"],
            run["prebuilt_us"],
            run["driver_us"],
        ]
        for run in results["runs"]
    ]
    print(
        report.table(
            "the webhook's database step, CPU us per call (best of 3 rounds)",
            [
                "backend",
                "record x 1 (webhook)",
                "record x 8 (group commit)",
                "calls.record_ring (Session)",
                "Core per call",
                "text() once",
                "driver SQL",
            ],
            rows,
        )
    )
    report.save("corepath", results)
    return results


if __name__ == "__main__":
    main()
