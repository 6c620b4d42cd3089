"""Alerts hidden in notes: customers whose notes or preferences mention an allergy while their
alerts are empty, each with the sentence to move into alerts in one click.

Nothing is moved by itself (the alerts migration leaves every customer's text where it was): a
manager sees the sentence and decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from .. import audit
from ..models import Customer
from .customers import update
from .record import TEXT_FIELDS

LIMIT = 100
# Word stems that say "this could hurt them": allergy, allergic, anaphylaxis, EpiPen, coeliac.
STEMS = ("allerg", "anaphyla", "epipen", "epi-pen", "coeliac", "celiac")
FIELDS = ("notes", "preferences")
AUDIT_ALERTS = "customer.alerts"
_SENTENCE = re.compile(r"[^.;!?\n]+[.;!?]?")


class Stale(LookupError):
    """The customer changed since the page showed the suggestion."""


@dataclass(frozen=True, slots=True)
class Suggestion:
    customer_id: int
    name: str
    field: str  # "notes" or "preferences"
    sentence: str  # what would move into alerts


def suggestions(session: Session, limit: int = LIMIT) -> list[Suggestion]:
    """Customers with empty alerts whose notes or preferences mention an allergy, by id, at most
    ``limit``; one suggestion each, the first sentence that mentions it."""
    mentions = [
        func.lower(getattr(Customer, name)).contains(stem, autoescape=True)
        for name in FIELDS
        for stem in STEMS
    ]
    found = session.scalars(
        select(Customer)
        .where(Customer.erased_at.is_(None), Customer.alerts == "", or_(*mentions))
        .order_by(Customer.id)
        .limit(limit)
    )
    return [s for s in (_suggestion(customer) for customer in found) if s is not None]


def _suggestion(customer: Customer) -> Suggestion | None:
    for name in FIELDS:
        sentence = mentioning(getattr(customer, name))
        if sentence:
            return Suggestion(customer.id, customer.name, name, sentence)
    return None


def mentioning(text: str) -> str:
    """The first sentence of ``text`` that mentions an allergy, trimmed; "" if none. A sentence
    longer than an alert may be is cut short, so the manager edits it rather than loses it."""
    for match in _SENTENCE.finditer(text):
        sentence = match.group().strip()
        if any(stem in sentence.lower() for stem in STEMS):
            return sentence[: TEXT_FIELDS["alerts"]]
    return ""


def move_to_alerts(
    session: Session,
    customer_id: int,
    field: str,
    sentence: str,
    *,
    actor: str,
    user_id: int | None = None,
) -> Customer:
    """Move ``sentence`` out of the customer's ``field`` (notes or preferences) into their empty
    alerts, through the directory's rules, and record it in the audit log. Raises ``Stale`` when
    the alerts are no longer empty or the field no longer holds the sentence. The caller
    commits."""
    customer = session.get(Customer, customer_id)
    text = getattr(customer, field, None) if field in FIELDS and customer else None
    if customer is None or text is None or customer.alerts or not sentence or sentence not in text:
        raise Stale("the customer changed since the page was shown")
    left = _tidy(text.replace(sentence, "", 1))
    update(session, customer_id, {"alerts": sentence, field: left})
    # The trail outlives erasure: ids and field names only, never the text.
    audit.record(
        session,
        AUDIT_ALERTS,
        f"customer {customer_id}",
        actor=actor,
        user_id=user_id,
        detail=f"moved a sentence from {field} into alerts",
    )
    return customer


def _tidy(text: str) -> str:
    lines = (re.sub(r"\s{2,}", " ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)
