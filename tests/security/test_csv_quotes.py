"""A stray quote in a customer CSV costs its own line, never the rows after it, and never a
traceback (issue 13, finding 10): `flask customers import`, as an operator runs it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from callerid.models import Customer

ROWS = 5000  # enough for the swallowed rows to pass the csv module's 128 KiB field limit


def guests(stray: dict[int, str]) -> str:
    """A file of ``ROWS`` guests, with the lines in ``stray`` (file line -> text) instead."""
    lines = ["name,phone,notes"]
    for n in range(ROWS):
        line = len(lines) + 1
        lines.append(stray.get(line, f"Guest {n},+1312555{n:04d},regular"))
    return "\n".join(lines) + "\n"


@pytest.fixture
def import_file(runner, tmp_path):
    def run(text: str, *options: str):
        path = tmp_path / "guests.csv"
        path.write_text(text, encoding="utf-8")
        return runner.invoke(args=["customers", "import", str(path), *options])

    return run


def count(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Customer))


def test_a_quote_that_never_closes_is_named_by_its_line_and_nothing_is_written(
    session, import_file
):
    result = import_file(guests({7: '"Anna Moors,+14155550134,window table'}))
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # the exit status, not a traceback
    assert "line 7: a stray quote" in result.stderr
    assert "1 bad row" in result.stderr
    assert count(session) == 0


def test_skip_bad_keeps_every_row_around_stray_quotes(session, import_file):
    stray = {
        7: '"Anna Moors,+14155550134,window table',  # opens a field, closes on line 900
        900: 'Zed" Quinn,+14155550135,"corner',  # a quote closing in the middle of a field
        1200: 'Bea,+14155550136,"says ""hi"" then',  # opens, and the file ends inside it
    }
    result = import_file(guests(stray), "--skip-bad")
    assert result.exit_code == 0, result.output
    for line in stray:
        assert f"line {line}: a stray quote" in result.stderr
    assert f"{ROWS - len(stray):,} created" in result.stdout
    assert count(session) == ROWS - len(stray)


def test_a_note_quoted_across_lines_is_still_one_row(session, import_file):
    text = (
        "name,phone,notes\n"
        'Anna Moors,+14155550134,"Window table,\nnot the bar"\n'  # lines 2-3
        "Bo,+14155550135,x\n"
    )
    result = import_file(text)
    assert result.exit_code == 0, result.output
    assert "2 created" in result.stdout
    session.expire_all()
    assert session.scalar(select(Customer.notes).where(Customer.name == "Anna Moors")) == (
        "Window table,\nnot the bar"
    )


def test_a_stray_quote_in_the_header_says_so(session, import_file):
    result = import_file('"name,phone\nAnna,+14155550134\n')
    assert result.exit_code == 1
    assert "header row (line 1) cannot be read: a stray quote" in result.stderr
    assert count(session) == 0
