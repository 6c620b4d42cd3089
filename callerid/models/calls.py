"""The calls the business receives and the ones it places (call-backs), their lines and notes."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, BigId, UTCDateTime, utcnow

if TYPE_CHECKING:  # relationships name their targets; the registry resolves them
    from .customers import Customer
    from .users import User


# Twilio's CallStatus values by how far along a call is; a call only ever moves up this scale.
RANK = {
    "queued": 0,
    "initiated": 0,
    "ringing": 1,
    "in-progress": 2,
    "completed": 3,
    "busy": 3,
    "no-answer": 3,
    "canceled": 3,
    "failed": 3,
}
TERMINAL = 3
# What a call was about, set at the desk (desk.annotate) and filtered on in the call log.
OUTCOMES = ("booking", "question", "complaint", "other")


class Line(Base):
    """A number the business answers (Twilio's ``To``), with a label such as "Reservations"."""

    __tablename__ = "lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(80), default="")


class Call(Base):
    __tablename__ = "calls"
    __table_args__ = (
        Index("ix_calls_customer_received", "customer_id", "received_at"),
        Index("ix_calls_from_received", "from_number", "received_at"),
        Index("ix_calls_received", "received_at", "id"),
        # The call log filtered by who answered or by outcome, newest first (history.calllog):
        # a rare value would otherwise scan the whole log. Also lists the names who answered.
        Index("ix_calls_answered_by_received", "answered_by", "received_at", "id"),
        Index("ix_calls_outcome_received", "outcome", "received_at", "id"),
        # A phone system's call is known by its own id there (phones.py); Twilio's have neither.
        UniqueConstraint("source", "source_call_id", name="uq_calls_source_call"),
        # Missed calls nobody has called back: a small part of the calls, read newest first by
        # the missed-calls list and counted by insights, from the index alone (it holds every
        # column they test). The predicate is written as the queries write it
        # (``history.missed.OPEN``), so SQLite's planner sees that it applies.
        Index(
            "ix_calls_open_missed",
            "received_at",
            "customer_id",
            "from_number",
            "caller_kind",
            "direction",
            "raw_from",
            sqlite_where=text("is_missed = 1 AND called_back_at IS NULL"),
            postgresql_where=text("is_missed = true AND called_back_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    # The dialled desk leg (<Dial><Number statusCallback>), known from its first callback.
    desk_call_sid: Mapped[str | None] = mapped_column(String(64), index=True)
    # E.164, or None for withheld and unusable caller IDs; raw_from keeps what Twilio sent.
    from_number: Mapped[str | None] = mapped_column(String(20))
    raw_from: Mapped[str] = mapped_column(String(100), default="")
    caller_kind: Mapped[str] = mapped_column(String(16), default="number")
    line_id: Mapped[int | None] = mapped_column(ForeignKey("lines.id"))
    direction: Mapped[str] = mapped_column(String(20), default="inbound")
    status: Mapped[str] = mapped_column(String(20), default="ringing")
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    # How the customer was found: "number" (sole owner), "shared" (one of several), None.
    matched_by: Mapped[str | None] = mapped_column(String(16))
    is_missed: Mapped[bool] = mapped_column(Boolean, default=False)
    answered_by: Mapped[str] = mapped_column(String(100), default="")
    outcome: Mapped[str] = mapped_column(String(20), default="")
    duration: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When a screen first showed the card: received_at -> card_shown_at is the screen-pop time.
    card_shown_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A missed call someone has returned, and who.
    called_back_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    called_back_by: Mapped[str] = mapped_column(String(100), default="")
    # The caller's voicemail, where Twilio keeps the recording.
    voicemail_url: Mapped[str | None] = mapped_column(String(500))
    # The phone system (a token's ``source``) that reported the call, and its own id for it;
    # both None for Twilio's calls, which are known by their CallSid.
    source: Mapped[str | None] = mapped_column(String(80))
    source_call_id: Mapped[str | None] = mapped_column(String(120))

    line: Mapped[Line | None] = relationship()
    customer: Mapped[Customer | None] = relationship()


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int | None] = mapped_column(
        ForeignKey("calls.id", ondelete="CASCADE"), index=True
    )
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User | None] = relationship()


class Callback(Base):
    """A call callerid places itself: the staff member's phone first, then the customer.

    Kept apart from ``calls``, which holds the calls the business receives: a call-back is
    never a missed call and stays out of answer rate, returning share and the call log.
    """

    __tablename__ = "callbacks"
    __table_args__ = (
        # One call-back in flight per number: a second click, on any screen or instance, is
        # refused by the database itself.
        Index(
            "uq_callbacks_in_flight",
            "number",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The missed (or last) call being returned; its caller's missed calls close on an answer.
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"))
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    number: Mapped[str] = mapped_column(String(20))  # the customer's, E.164
    line: Mapped[str] = mapped_column(String(64))  # our number, shown to the customer
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    by: Mapped[str] = mapped_column(String(80), default="")
    staff_phone: Mapped[str] = mapped_column(String(100), default="")
    # starting, calling-staff, calling-customer, answered, ended (see callerid/callbacks.py)
    status: Mapped[str] = mapped_column(String(20), default="starting")
    # How it ended: talked, customer-missed, staff-missed, failed, lost; detail in words.
    outcome: Mapped[str] = mapped_column(String(20), default="")
    detail: Mapped[str] = mapped_column(String(300), default="")
    staff_call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    customer_call_sid: Mapped[str | None] = mapped_column(String(64))
    duration: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    call: Mapped[Call | None] = relationship()
    customer: Mapped[Customer | None] = relationship()
