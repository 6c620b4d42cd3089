"""Untrusted input, read one way everywhere: whole numbers in range, text a database can store,
JSON of a sane depth (``gate`` applies these rules to every request).

Why each rule exists: ``str.isdigit`` accepts "²" and "٣", which ``int()`` refuses; an id past
2^31 - 1 makes PostgreSQL's ``integer`` columns raise (SQLite's past 2^63); PostgreSQL text cannot
hold NUL; a lone surrogate (JSON's "\\ud800") cannot be encoded to UTF-8 for any database; and
Python's JSON decoder recurses once per level of nesting, so ``[[[[...]]]]`` raises
RecursionError.
"""

from __future__ import annotations

import re
from typing import Any

MAX_ID = 2**31 - 1  # PostgreSQL ``integer``: every id column but the events'
MAX_BIG_ID = 2**63 - 1  # PostgreSQL ``bigint`` (event ids and positions), SQLite's INTEGER
MAX_JSON_DEPTH = 32  # our deepest body is two levels; a hundred levels is an attack
_DIGITS = re.compile(r"[0-9]{1,19}")
# NUL, and the UTF-16 surrogate halves, which are no characters of their own.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class BadInput(ValueError):
    """Input that breaks one of this module's rules; the message says which, for a person."""


def whole_number(raw: str | None, maximum: int = MAX_ID) -> int | None:
    """``raw`` as a whole number from 0 to ``maximum`` when it is written in ASCII digits (no
    sign, no spaces); None otherwise, including for None."""
    if raw is None or not _DIGITS.fullmatch(raw):
        return None
    value = int(raw)
    return value if value <= maximum else None


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text (a NUL byte, a lone surrogate), or None."""
    found = _UNSTORABLE.search(value)
    if found is None:
        return None
    return "contains a NUL byte" if found.group() == "\x00" else "contains a lone surrogate"


def check_text(value: str, name: str) -> str:
    """``value`` unchanged, or ``BadInput`` naming ``name`` when it cannot be stored as text."""
    problem = text_problem(value)
    if problem:
        raise BadInput(f"{name} {problem}.")
    return value


def check_json(value: Any) -> None:
    """``BadInput`` when a decoded JSON document is nested past ``MAX_JSON_DEPTH`` or holds text
    (keys included) that cannot be stored."""
    # Iterative, so that checking a deep document cannot itself run out of stack.
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > MAX_JSON_DEPTH:
            raise BadInput(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.")
        if isinstance(item, str):
            check_text(item, "A JSON string")
        elif isinstance(item, dict):
            for key, child in item.items():
                check_text(key, "A JSON key")
                pending.append((child, depth + 1))
        elif isinstance(item, list):
            pending.extend((child, depth + 1) for child in item)


def json_id(value: Any) -> int | None:
    """A row id sent in JSON: an integer (not a boolean) from 1 to ``MAX_ID``; None otherwise."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 1 <= value <= MAX_ID else None
