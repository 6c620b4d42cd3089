"""Text messages: received, sent by callerid itself, and the numbers that opted out."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:  # relationships name their targets; the registry resolves them
    from .calls import Call
    from .customers import Customer


class TextReceived(Base):
    """A text message someone sent to one of our numbers (a reply to a missed call, often)."""

    __tablename__ = "texts_received"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_sid: Mapped[str] = mapped_column(String(64), unique=True)
    number: Mapped[str | None] = mapped_column(String(20), index=True)  # E.164 when it is one
    raw_from: Mapped[str] = mapped_column(String(100), default="")
    line: Mapped[str] = mapped_column(String(64), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    # STOP, START or HELP when the text was one of those keywords (callerid/texts.py).
    keyword: Mapped[str] = mapped_column(String(16), default="")
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    # The missed call this text answers: the sender's latest missed call before it, if recent.
    call_id: Mapped[int | None] = mapped_column(
        ForeignKey("calls.id", ondelete="SET NULL"), index=True
    )
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    customer: Mapped[Customer | None] = relationship()
    call: Mapped[Call | None] = relationship()


class OptOut(Base):
    """A number that asked for no more texts (STOP), from any of our lines, until it texts
    START. Kept after an erasure: it is the record that they must not be texted."""

    __tablename__ = "opt_outs"

    number: Mapped[str] = mapped_column(String(20), primary_key=True)
    keyword: Mapped[str] = mapped_column(String(16), default="STOP")
    # "reply" (they texted a keyword) or "twilio" (Twilio refused a text with error 21610).
    source: Mapped[str] = mapped_column(String(16), default="reply")
    opted_out_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TextSent(Base):
    """A text callerid sends by itself: the "sorry we missed you" after a missed call.

    Written as "scheduled" when the call is missed and moved along by callerid/textback.py:
    held (quiet hours), cancelled or dropped (with a reason), "sending" just before the REST
    call (never retried after that: an unknown outcome must not send it twice), then Twilio's
    own statuses from the signed message status callbacks.
    """

    __tablename__ = "texts_sent"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The missed call it answers: one text per missed call at most.
    call_id: Mapped[int | None] = mapped_column(
        ForeignKey("calls.id", ondelete="SET NULL"), unique=True
    )
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    number: Mapped[str] = mapped_column(String(20), index=True)  # the caller's, E.164
    # Our line that was called, a configured sender, or a Messaging Service SID (MG...).
    sender: Mapped[str] = mapped_column(String(64), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    # scheduled, held, cancelled, dropped, sending, unknown, then Twilio's: queued, sending,
    # sent, delivered, undelivered, failed (callerid/textback.py has the whole story).
    status: Mapped[str] = mapped_column(String(20), default="scheduled", index=True)
    # Why it was held, cancelled or dropped, in words.
    reason: Mapped[str] = mapped_column(String(200), default="")
    error_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(String(300), default="")  # Twilio's refusal, in words
    message_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    call: Mapped[Call | None] = relationship()
    customer: Mapped[Customer | None] = relationship()
