"""Customers and the numbers they call from."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, UTCDateTime, utcnow


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
