"""The business's own numbers (Twilio's ``To``) and the labels the desk sees on cards."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import numbers
from ..models import Call, Line


class InvalidLabel(ValueError):
    """A line label longer than ``LABEL_MAX``."""


LABEL_MAX = 80


def with_counts(session: Session) -> list[tuple[Line, int]]:
    """Every line with how many calls it took, labelled ones first."""
    calls = select(Call.line_id, func.count().label("calls")).group_by(Call.line_id).subquery()
    rows = session.execute(
        select(Line, func.coalesce(calls.c.calls, 0))
        .outerjoin(calls, calls.c.line_id == Line.id)
        .order_by(Line.label == "", Line.label, Line.number)
    )
    return [(line, int(count)) for line, count in rows]


def label(session: Session, raw_number: str, text: str, region: str) -> tuple[Line, bool]:
    """Give the line ``raw_number`` (any format) the label ``text``; a line that has not rung
    yet is created, so a new number can be named before its first call. Returns the line and
    whether it was created. Raises ``numbers.InvalidNumber`` and ``InvalidLabel``."""
    text = " ".join(text.split())
    if len(text) > LABEL_MAX:
        raise InvalidLabel(f"a label has at most {LABEL_MAX} characters")
    number = _key(raw_number, region)
    line = session.scalar(select(Line).where(Line.number == number))
    created = line is None
    if line is None:
        line = Line(number=number)
        session.add(line)
    line.label = text
    session.flush()
    return line, created


def _key(raw_number: str, region: str) -> str:
    # The key a call is filed under (lookup.line_key): E.164, or the address itself for
    # client:/sip: lines.
    text = raw_number.strip()
    if text.lower().startswith(("client:", "sip:")):
        return text[:64]
    return numbers.parse(text, region)
