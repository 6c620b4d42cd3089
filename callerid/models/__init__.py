"""The tables: customers and their numbers, lines, calls, call-backs, texts received and sent,
opt-outs, notes, events, users and their tokens, and the settings managers change."""

from __future__ import annotations

from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, UTCDateTime, utcnow

# SQLite only gives a 64-bit autoincrement to "INTEGER PRIMARY KEY"; PostgreSQL gets BIGINT.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    # How the desk addresses them: "Mrs.", "Dr.", "Mr."; with the surname: "Mrs. Moors".
    salutation: Mapped[str] = mapped_column(String(40), default="")
    # What they asked to be called ("Annie"); wins over salutation + surname.
    preferred_name: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    # Preferences the desk should know at a glance: allergies, favourite table.
    preferences: Mapped[str] = mapped_column(Text, default="")
    # What must never be missed (a severe allergy, "speak slowly"): a red band on every card.
    alerts: Mapped[str] = mapped_column(String(300), default="", server_default="")
    # How to say their name ("Nguyen: say 'win'"), under the greeting.
    pronunciation: Mapped[str] = mapped_column(String(120), default="", server_default="")
    # Name, preferred name and email folded for search (no accents, any case), so "tomas" finds
    # "Tomás" on every engine without an extension; kept by directory.customers on every write.
    search_key: Mapped[str] = mapped_column(Text, default="", server_default="")
    tags: Mapped[str] = mapped_column(String(400), default="")
    is_vip: Mapped[bool] = mapped_column(Boolean, default=False)
    do_not_greet: Mapped[bool] = mapped_column(Boolean, default=False)
    # Asked never to be contacted by us: no call-back button, no "sorry we missed you" text.
    do_not_contact: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    birthday: Mapped[date | None] = mapped_column(Date)
    anniversary: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Set when a manager erased the customer's personal data; the row keeps statistics joined.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    numbers: Mapped[list[PhoneNumber]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="PhoneNumber.id"
    )

    @property
    def tag_list(self) -> list[str]:
        return [tag.strip() for tag in self.tags.split(",") if tag.strip()]


# A stored number not shaped like E.164 ("+", a non-zero digit, 7 to 15 digits in all), as each
# engine tests it. The data-quality page (directory.quality) writes the same text in its query,
# so the partial index below, which holds only such rows, finds them without reading the rest.
NOT_E164_SQLITE = (
    "NOT (length(number) BETWEEN 8 AND 16 AND number GLOB '+[1-9]*'"
    " AND ltrim(substr(number, 2), '0123456789') = '')"
)
NOT_E164_POSTGRESQL = "number !~ '^[+][1-9][0-9]{6,14}$'"


class PhoneNumber(Base):
    """One customer's number in E.164. Several customers may share a number (a household)."""

    __tablename__ = "phone_numbers"
    __table_args__ = (
        UniqueConstraint("customer_id", "number"),
        Index(
            "ix_phone_numbers_not_e164",
            "id",
            "customer_id",
            "number",
            sqlite_where=text(NOT_E164_SQLITE),
            postgresql_where=text(NOT_E164_POSTGRESQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(20), index=True)
    label: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="numbers")


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


class Event(Base):
    """One thing screens must hear about; its position is the SSE id (see events/)."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("position", name="uq_events_position"),
        # The events still waiting for a position (PostgreSQL's sequencer looks them up).
        Index(
            "ix_events_unpositioned",
            "id",
            sqlite_where=text("position IS NULL"),
            postgresql_where=text("position IS NULL"),
        ),
        # AUTOINCREMENT: SQLite would otherwise reuse ids once old events are pruned.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # Gap-free, in the order events became visible: given at commit on SQLite (position = id),
    # by the sequencer on PostgreSQL (events/sequencer.py). None until then.
    position: Mapped[int | None] = mapped_column(BigId)
    kind: Mapped[str] = mapped_column(String(40))
    data: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class EventCounter(Base):
    """PostgreSQL's sequencer's count of positions given (one row), kept apart from the events
    themselves: pruning or erasing the newest events must never make a position be given
    twice."""

    __tablename__ = "event_counter"

    id: Mapped[int] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(BigId, default=0)


class User(UserMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    role: Mapped[str] = mapped_column(String(16), default="staff")
    password_hash: Mapped[str] = mapped_column(String(256), default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Unused since failed logins are counted per name and address (LoginThrottle): kept while an
    # older instance may still run beside this one during a rolling upgrade; drop them later.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set by each successful password login; None for people who never logged in.
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The phone a call-back rings first (E.164, sip: or client:); "" means CALLERID_FORWARD_TO.
    phone: Mapped[str] = mapped_column(String(100), default="", server_default="")

    @property
    def is_manager(self) -> bool:
        return self.role == "manager"


class ApiToken(Base):
    """A bearer token, stored as its SHA-256: a leaked database does not leak usable tokens."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # What the token opens (auth.tokens.KINDS): "user" acts as its user, "phone" posts call
    # events and looks up callers, "metrics" reads /metrics and nothing else. Tokens made
    # before kinds existed are "user" tokens.
    kind: Mapped[str] = mapped_column(String(16), default="user", server_default="user")
    # The named phone system a "phone" token speaks for ("3CX downtown"); several tokens may
    # share one (a PBX and its standby). None for other kinds.
    source: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class LoginSession(Base):
    """One browser's login. Its cookie carries a secret, kept here only as a SHA-256; ending the
    row logs that browser out, and every copy of its cookie with it (auth.login_sessions)."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginThrottle(Base):
    """Failed logins in the current window, per (name, address) or per address (auth.throttle)."""

    __tablename__ = "login_throttle"

    # "n:<sha256 of the name>:<address>" or "a:<address>"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    # The name's SHA-256 on per-name rows, so that a new password can clear them all.
    name_key: Mapped[str | None] = mapped_column(String(64), index=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class AuditEntry(Base):
    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(80), default="")
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


# Rollups: counts of closed UTC days, kept by history.rollup so insights need not read every call.
# A day is rolled up when all 96 of its quarter-hour rows are here (rows without calls included).
class CallSlot(Base):
    """One quarter hour (UTC) of inbound calls; ``slot`` counts quarter hours since 1970."""

    __tablename__ = "call_slots"

    slot: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    calls: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    missed: Mapped[int] = mapped_column(Integer, default=0)
    # Calls from customers who had called before (see history.insights).
    came_back: Mapped[int] = mapped_column(Integer, default=0)


class ScreenPopDay(Base):
    """How many of a UTC day's inbound calls showed their card after ``ms`` milliseconds."""

    __tablename__ = "screen_pop_days"

    day: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    ms: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    calls: Mapped[int] = mapped_column(Integer, default=0)


class CallerDay(Base):
    """A customer who called at least twice in a UTC day (days since 1970), and how often.
    Single calls are left out: they are most rows and never decide the top callers."""

    __tablename__ = "caller_days"
    __table_args__ = (Index("ix_caller_days_customer", "customer_id"),)

    day: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    customer_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    calls: Mapped[int] = mapped_column(Integer, default=0)


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


class Setting(Base):
    """One setting a manager changes on the settings page, its value as JSON
    (callerid/business_settings.py names them and their defaults)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="null")
    updated_by: Mapped[str] = mapped_column(String(80), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


# The webhooks' tables live with their subject; imported here so every table is known wherever
# the models are (migrations, create_all).
from ..webhooks import tables as _webhook_tables  # noqa: E402,F401
