"""People's names compared as a person would: without case, accents, punctuation or titles, so
that two records on one number can be told apart as one person or a household."""

from __future__ import annotations

import re
import unicodedata

# Titles in front of a name say nothing about who it is.
TITLES = {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "lord", "lady"}


def name_words(name: str) -> list[str]:
    """The words of a name without case, accents, punctuation, digits or leading titles:
    "Mrs. Zoë O'Brien" -> ["zoe", "o", "brien"]."""
    plain = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    words = re.findall(r"[^\W\d_]+", plain)
    while len(words) > 1 and words[0] in TITLES:
        words.pop(0)
    return words


def same_person(a: str, b: str) -> bool:
    """Whether two names on the same number can be one person. An empty name fits anyone.

    Compared without case, accents, punctuation or titles (Mrs, Dr, ...): equal names match;
    a single word matches the other name's first or last word ("Anna" or "Moors" and "Anna
    Moors"); otherwise the last words must be equal and the first words must agree, where an
    initial or a start of at least three letters agrees ("A. Moors", "Rob" and "Robert"). Middle
    names are ignored. "Anna Moors" and "James Moors" are two people: a household.
    """
    words_a, words_b = name_words(a), name_words(b)
    if not words_a or not words_b or words_a == words_b:
        return True
    if len(words_a) == 1 or len(words_b) == 1:
        single, other = (words_a, words_b) if len(words_a) == 1 else (words_b, words_a)
        return single[0] in (other[0], other[-1])
    return words_a[-1] == words_b[-1] and _first_names_agree(words_a[0], words_b[0])


def _first_names_agree(a: str, b: str) -> bool:
    short, long = sorted((a, b), key=len)
    if len(short) == 1:
        return long.startswith(short)
    return len(short) >= 3 and long.startswith(short)
