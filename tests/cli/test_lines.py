"""flask lines list | label: naming the numbers callers dial, as the cards show them."""

from __future__ import annotations

from callerid import calls, ringing
from callerid.db import utcnow
from callerid.models import Line

from ..factories import add_call


def test_a_line_that_rang_gets_a_label_and_the_next_card_shows_it(runner, session):
    add_call(session, line="+12025550143")
    session.commit()
    result = runner.invoke(args=["lines", "label", "(202) 555-0143", "Reservations"])
    assert result.exit_code == 0, result.output
    assert result.output == "Line (202) 555-0143 is now labelled 'Reservations'.\n"
    session.expire_all()
    ring = ringing.Ring("CA" + "1" * 32, "+14155550134", "+12025550143")
    assert (
        calls.record_ring(session, ring, "US", today=utcnow().date()).line.label == "Reservations"
    )


def test_a_line_can_be_named_before_its_first_call(runner, session):
    result = runner.invoke(args=["lines", "label", "+44 20 7946 0018", "London  desk"])
    assert result.exit_code == 0, result.output
    assert "(added: it has not rung yet)" in result.output
    line = session.query(Line).one()
    assert (line.number, line.label) == ("+442079460018", "London desk")


def test_list_shows_calls_per_line_and_unlabelled_ones(runner, session):
    add_call(session, line="+12025550143")
    add_call(session, line="+12025550143")
    add_call(session, line="+12025550199")
    session.commit()
    runner.invoke(args=["lines", "label", "+12025550199", "Catering"])
    lines = runner.invoke(args=["lines", "list"]).output.splitlines()
    assert lines[0].split() == ["(202)", "555-0199", "1", "calls", "Catering"]
    assert lines[1].startswith("(202) 555-0143")
    assert "2 calls" in lines[1] and "no label" in lines[1]


def test_an_empty_label_removes_it(runner, session):
    runner.invoke(args=["lines", "label", "+12025550143", "Front desk"])
    result = runner.invoke(args=["lines", "label", "+12025550143", ""])
    assert result.output == "Line (202) 555-0143 has no label now; cards show its number.\n"


def test_a_bad_number_or_long_label_is_refused_and_nothing_is_saved(runner, session):
    bad = runner.invoke(args=["lines", "label", "555-12", "Desk"])
    assert bad.exit_code == 2
    assert "Invalid value for NUMBER" in bad.output
    long = runner.invoke(args=["lines", "label", "+12025550143", "x" * 81])
    assert long.exit_code == 2
    assert "at most 80 characters" in long.output
    assert session.query(Line).count() == 0


def test_no_lines_yet_is_explained(runner):
    result = runner.invoke(args=["lines", "list"])
    assert result.output.startswith("No line yet")


def test_making_many_apps_does_not_wrap_the_commands_again_each_time(app, tmp_path):
    # Every create_app registers the same command objects: a process making thousands (the
    # tests, a long-lived worker reloading) must not nest their error handling each time.
    from callerid import create_app
    from callerid.cli.lines import lines_group

    def depth() -> int:
        callback, layers = lines_group.commands["list"].callback, 0
        while hasattr(callback, "__wrapped__"):
            callback, layers = callback.__wrapped__, layers + 1
        return layers

    before = depth()
    for n in range(3):
        create_app({**app.config, "INSTANCE_PATH": str(tmp_path / f"i{n}")})
    assert depth() == before
