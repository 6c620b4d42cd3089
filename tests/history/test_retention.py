"""flask calls anonymise --older-than DAYS: old calls become anonymous statistics; and
flask calls rollup, which counts past days for insights ahead of time."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from callerid.db import utcnow
from callerid.events import store as events
from callerid.history import insights
from callerid.models import AuditEntry, Call, CallSlot, Event, Note

from ..factories import add_call, add_customer


@pytest.fixture
def history(session):
    anna = add_customer(session, "Anna Moors", numbers=("+14155550134",))
    first = add_call(session, anna, at=utcnow() - timedelta(days=400))
    again = add_call(
        session, anna, at=utcnow() - timedelta(days=380), status="no-answer", is_missed=True
    )
    stranger = add_call(
        session, None, from_number="+13125550187", at=utcnow() - timedelta(days=390)
    )
    recent = add_call(session, anna, at=utcnow() - timedelta(days=10))
    session.add(Note(call_id=again.id, customer_id=anna.id, body="Wants the private room"))
    session.add(Note(call_id=recent.id, customer_id=anna.id, body="Table for two"))
    session.add(
        Event(kind="call.ringing", data='{"from":"+14155550134"}', created_at=first.received_at)
    )
    session.commit()
    return {"anna": anna, "old": [first, again, stranger], "recent": recent}


def old_insights(session):
    since = utcnow() - timedelta(days=410)
    return insights.summarise(session, since, utcnow() - timedelta(days=370), ZoneInfo("UTC"))


def run(runner, *args):
    return runner.invoke(args=["calls", "anonymise", *args])


def test_old_calls_lose_their_caller_and_notes_but_keep_their_statistics(runner, session, history):
    before = old_insights(session)
    result = run(runner, "--older-than", "365")
    assert result.exit_code == 0, result.output
    assert "Anonymised 3 calls received before" in result.output
    assert "deleted 1 notes and 1 events" in result.output
    session.expire_all()
    for call in history["old"]:
        row = session.get(Call, call.id)
        assert (row.from_number, row.raw_from, row.customer_id) == (None, "", None)
        assert (row.status, row.received_at) == (call.status, call.received_at)
    recent = session.get(Call, history["recent"].id)
    assert (recent.customer_id, recent.from_number) == (history["anna"].id, "+14155550134")
    assert session.scalars(select(Note.body)).all() == ["Table for two"]
    after = old_insights(session)
    assert (
        (after.calls, after.answered, after.missed, after.returning)
        == (
            before.calls,
            before.answered,
            before.missed,
            before.returning,
        )
        == (3, 2, 1, 1)
    )


def test_a_dry_run_counts_and_changes_nothing(runner, session, history):
    result = run(runner, "--older-than", "365", "--dry-run")
    assert result.exit_code == 0
    assert "Would anonymise 3 calls" in result.output
    assert "would delete 1 notes and 1 events" in result.output
    session.expire_all()
    assert session.scalar(select(func.count()).where(Call.customer_id.is_not(None))) == 3
    assert session.scalar(select(AuditEntry)) is None


def test_the_run_is_audited_as_the_cli(runner, session, history):
    run(runner, "--older-than", "365")
    entry = session.scalar(select(AuditEntry))
    assert (entry.actor, entry.action) == ("cli", "anonymise")
    assert entry.target.startswith("calls before ")
    assert entry.detail == "3 calls anonymised, 1 notes and 1 events deleted"


def test_running_again_finds_nothing_more_to_do(runner, session, history):
    run(runner, "--older-than", "365")
    result = run(runner, "--older-than", "365")
    assert "Anonymised 0 calls" in result.output
    assert events.latest_position(session) == 0


@pytest.mark.parametrize("args", [[], ["--older-than", "0"], ["--older-than", "a year"]])
def test_the_age_is_required_and_must_be_whole_days(runner, args):
    result = run(runner, *args)
    assert result.exit_code == 2


def test_help_says_what_it_does(runner):
    result = runner.invoke(args=["calls", "anonymise", "--help"])
    assert "--older-than DAYS" in result.output and "--dry-run" in result.output
    assert "cron" in result.output


def test_the_rollup_command_counts_past_days_once(runner, session):
    add_call(session, at=utcnow() - timedelta(days=3))
    session.commit()
    first = runner.invoke(args=["calls", "rollup", "--days", "10"])
    assert first.exit_code == 0, first.output
    counted = first.stdout.split()[2]  # 9 or 10 days: today's first two hours are not settled
    assert first.stdout == f"Rolled up {counted} days; 0 were already counted.\n"
    assert session.scalar(select(func.sum(CallSlot.calls))) == 1
    again = runner.invoke(args=["calls", "rollup", "--days", "10"])
    assert again.stdout == f"Rolled up 0 days; {counted} were already counted.\n"
