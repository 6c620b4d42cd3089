"""Cells of the CSV files we write, made safe to open in a spreadsheet, and read back."""

from __future__ import annotations

import re

# Spreadsheets run a cell that starts like a formula, so such text gets a leading apostrophe
# (owasp.org/www-community/attacks/CSV_Injection). An E.164 number is only digits after its "+":
# as a formula it is that number, so it is kept as it is and stays readable to scripts.
_FORMULA = re.compile(r"^[=+\-@\t\r]")
_E164 = re.compile(r"^\+\d+$")


def escaped(text: str) -> str:
    """``text`` with a leading ``'`` when a spreadsheet would run it as a formula."""
    if _FORMULA.match(text) and not _E164.match(text):
        return "'" + text
    return text


def unescaped(text: str) -> str:
    """``text`` as it was before ``escaped``: the apostrophe in front of a formula removed."""
    return text[1:] if text.startswith("'") and _FORMULA.match(text[1:]) else text
