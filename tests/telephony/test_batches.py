"""Voice webhooks recorded a batch at a time (ringing.record), as group commit does under
load: each call is recorded and announced exactly as if it had rung alone."""

from __future__ import annotations

import json
import time
from datetime import timedelta

from sqlalchemy import event, func, select

from callerid import clock, db, ringing, screens
from callerid.db import utcnow
from callerid.models import Call, Event, Note
from callerid.telephony import recorder
from callerid.telephony.spool import Entry

from ..factories import add_call, add_customer, call_sid
from ..twilio import post_signed, sample

LINE = "+12025550143"


def ring_batch(app, rings: list[ringing.Ring]) -> list[ringing.Ringing]:
    with db.engine_for(app).begin() as connection:
        return ringing.record(connection, rings, "US", today=clock.business_today(app.config))


def cards_by_sid(session) -> dict[str, dict]:
    cards = [json.loads(data) for data in session.scalars(select(Event.data).order_by(Event.id))]
    return {card["call_sid"]: card for card in cards}


def test_each_call_of_a_batch_gets_its_own_customer_history_and_card(app, session):
    anna = add_customer(session, "Anna Moors", numbers=("+13125550187",), salutation="Mrs.")
    ben = add_customer(session, "Ben Okafor", numbers=("+13125550111", "+13125550112"))
    anna_calls = [add_call(session, anna, at=utcnow() - timedelta(days=d)) for d in (1, 2)]
    for d in (1, 4, 6, 8):
        add_call(session, ben, at=utcnow() - timedelta(days=d))
    session.add(Note(call_id=anna_calls[0].id, customer_id=anna.id, body="Table by the window"))
    session.commit()
    rings = [
        ringing.Ring(call_sid(), "(312) 555-0187", LINE),
        ringing.Ring(call_sid(), "+1 312 555 0112", LINE),
        ringing.Ring(call_sid(), "+13125550199", LINE),  # a stranger
        ringing.Ring(call_sid(), "anonymous", LINE),
    ]
    results = ring_batch(app, rings)
    assert [r.is_new for r in results] == [True, True, True, True]
    assert len({r.event_id for r in results}) == 4
    cards = cards_by_sid(session)
    anna_card, ben_card = cards[rings[0].call_sid], cards[rings[1].call_sid]
    assert anna_card["greeting"] == "Welcome back, Mrs. Moors"
    assert anna_card["customer"]["calls_count"] == 2
    assert anna_card["customer"]["recent_calls"][0]["notes"] == ["Table by the window"]
    assert ben_card["customer"]["name"] == "Ben Okafor"
    assert ben_card["customer"]["calls_count"] == 4
    assert len(ben_card["customer"]["recent_calls"]) == 3
    assert ben_card["customer"]["numbers"] == ["+13125550111", "+13125550112"]
    assert cards[rings[2].call_sid]["customer"] is None
    assert cards[rings[3].call_sid]["caller"]["display"] == "Number withheld"
    # Each card is the one the board rebuilds for that call afterwards.
    today = clock.business_today(app.config)
    for ring in rings:
        call = session.scalar(select(Call).where(Call.call_sid == ring.call_sid))
        assert cards[ring.call_sid] == screens.card(session, call, "US", today=today)
        assert call.line.number == LINE


def test_a_callsid_twice_in_a_batch_or_already_recorded_is_recorded_and_announced_once(
    app, session
):
    known = ring_batch(app, [ringing.Ring("CA" + "1" * 32, "+13125550187", LINE)])[0]
    twice = "CA" + "2" * 32
    results = ring_batch(
        app,
        [
            ringing.Ring(twice, "+13125550187", LINE),
            ringing.Ring("CA" + "1" * 32, "+13125550187", LINE),
            ringing.Ring(twice, "+13125550187", LINE),
        ],
    )
    assert [r.is_new for r in results] == [True, False, False]
    assert results[1].call_id == known.call_id
    assert results[0].call_id == results[2].call_id
    assert results[1].event_id is None and results[2].event_id is None
    assert session.scalar(select(func.count()).select_from(Call)) == 2
    assert session.scalar(select(func.count()).select_from(Event)) == 2


def test_a_batch_of_calls_to_a_new_line_creates_the_line_once(app, session):
    rings = [ringing.Ring(call_sid(), f"+1312555{i:04d}", "+18005550100") for i in range(5)]
    ring_batch(app, rings)
    line_ids = set(session.scalars(select(Call.line_id)))
    assert len(line_ids) == 1


def test_one_webhook_the_database_rejects_does_not_cost_the_rest_of_its_batch(app, session):
    # A CallSid longer than the column allows: PostgreSQL refuses the row (SQLite keeps it).
    rings = [ringing.Ring(call_sid(), f"+1312555{i:04d}", LINE) for i in range(3)]
    rings.insert(1, ringing.Ring("CA" + "9" * 80, "+13125550999", LINE))
    with app.test_request_context("/twilio/voice", method="POST"):
        results = recorder._record_rings(app, rings, time.monotonic() + 1.5)
    recorded = set(session.scalars(select(Call.call_sid)))
    for ring, result in zip(rings, results, strict=True):
        if ring.call_sid in recorded:
            assert result is not None and result.is_new
        else:
            assert result is None  # logged as unrecorded; the call itself still connects
    assert {r.call_sid for r in rings if len(r.call_sid) < 64} <= recorded
    assert len(recorded) == (3 if db.engine_for(app).dialect.name == "postgresql" else 4)


def test_status_callbacks_of_several_calls_share_one_transaction_in_order(app, client, session):
    # Five of a call's seven requests are status callbacks: they are batched like rings.
    sids = [call_sid(), call_sid()]
    for n, sid in enumerate(sids):
        post_signed(
            client, "/twilio/voice", sample("voice-inbound-us", CallSid=sid, From=f"+1312555000{n}")
        )
    entries = [
        Entry("status", sample("voice-inbound-us", CallSid=sid, CallStatus=status), utcnow())
        for status in ("in-progress", "completed")
        for sid in reversed(sids)
    ]
    commits = []

    def count(connection) -> None:
        commits.append(connection)

    event.listen(db.engine_for(app), "commit", count)
    try:
        with app.test_request_context("/twilio/status", method="POST"):
            assert recorder._apply_batch(app, entries, time.monotonic() + 5) == [True] * 4
    finally:
        event.remove(db.engine_for(app), "commit", count)
    assert len(commits) == 1
    session.expire_all()
    for sid in sids:
        call = session.scalar(select(Call).where(Call.call_sid == sid))
        assert (call.status, call.is_missed) == ("completed", False)
        kinds = session.scalars(
            select(Event.kind).where(Event.data.contains(sid)).order_by(Event.id)
        ).all()
        assert kinds == ["call.ringing", "call.answered", "call.ended"]
