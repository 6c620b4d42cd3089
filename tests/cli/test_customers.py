"""flask customers import | export, as an operator runs them."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from callerid.cli import customers as customers_cli
from callerid.models import AuditEntry, Customer

from ..factories import add_customer


def names(session) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(Customer.name).order_by(Customer.id)))


@pytest.fixture
def csv_file(tmp_path):
    def write(text: str, name: str = "guests.csv") -> str:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


GOOD_AND_BAD = "name,phone\nAnna Moors,(415) 555-0134\nBob Hale,555-12\nCleo Park,312.555.0187\n"


def test_an_import_says_what_it_did(runner, session, csv_file):
    path = csv_file(
        "First name,Surname,Mobile\nAnna,Moors,415 555 0134\nJames,Moors,+13125550187\n"
    )
    result = runner.invoke(args=["customers", "import", path])
    assert result.exit_code == 0, result.output
    assert (
        result.stdout == "Imported 2 rows from " + path + ": 2 created, 0 updated, 0 unchanged.\n"
    )
    assert names(session) == ["Anna Moors", "James Moors"]


def test_a_file_with_bad_rows_is_not_imported_at_all(runner, session, csv_file):
    result = runner.invoke(args=["customers", "import", csv_file(GOOD_AND_BAD)])
    assert result.exit_code == 1
    assert "line 3: phone '555-12' is not a phone number" in result.stderr
    assert "Nothing was imported: 1 bad row" in result.stderr
    assert "--skip-bad to import the other 2 rows" in result.stderr
    assert result.stdout == ""
    assert names(session) == []


def test_skip_bad_imports_the_good_rows_and_lists_the_bad(runner, session, csv_file):
    result = runner.invoke(args=["customers", "import", csv_file(GOOD_AND_BAD), "--skip-bad"])
    assert result.exit_code == 0
    assert "line 3: phone '555-12' is not a phone number" in result.stderr
    assert "2 created" in result.stdout and "1 bad row skipped" in result.stdout
    assert names(session) == ["Anna Moors", "Cleo Park"]


def test_a_dry_run_reports_and_writes_nothing(runner, session, csv_file):
    result = runner.invoke(args=["customers", "import", csv_file(GOOD_AND_BAD), "--dry-run"])
    assert result.exit_code == 1  # the file would not import as it is
    assert "Dry run, nothing written: 2 good rows" in result.stdout
    assert "2 created" in result.stdout
    assert names(session) == []


def test_duplicates_merge_with_customers_already_known(runner, session, csv_file):
    add_customer(session, "Anna Moors", numbers=("+14155550134",))
    path = csv_file("name,phone,home\nAnna Moors,415-555-0134,3125550187\nAnna Moors,4155550134,\n")
    result = runner.invoke(args=["customers", "import", path])
    assert result.exit_code == 0, result.output
    assert "0 created, 1 updated" in result.stdout
    assert "1 number added to existing customers, 1 duplicate row merged" in result.stdout
    assert names(session) == ["Anna Moors"]


def test_a_shared_landline_is_reported(runner, session, csv_file):
    path = csv_file("name,landline\nAnna Moors,3125550187\nJames Moors,3125550187\n")
    result = runner.invoke(args=["customers", "import", path])
    assert result.exit_code == 0
    assert "line 3: +13125550187 is shared by Anna Moors and James Moors" in result.stderr
    assert names(session) == ["Anna Moors", "James Moors"]


def test_the_region_option_reads_national_numbers(runner, session, csv_file):
    path = csv_file("name,phone\nAlistair Grant,020 7946 0958\n")
    us = runner.invoke(args=["customers", "import", path])
    gb = runner.invoke(args=["customers", "import", path, "--region", "gb"])
    assert us.exit_code == 1 and "(read as a US number)" in us.stderr
    assert gb.exit_code == 0
    assert session.scalar(select(func.count()).select_from(Customer)) == 1


def test_an_unknown_region_is_refused(runner, csv_file):
    result = runner.invoke(args=["customers", "import", csv_file(GOOD_AND_BAD), "--region", "XX"])
    assert result.exit_code == 2
    assert "'XX' is not a region code" in result.output


def test_semicolons_and_a_byte_order_mark_are_fine(runner, session, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffNom;Name;Téléphone;Phone\r\nx;Zoë Park;x;+1 312 555 0187\r\n".encode())
    result = runner.invoke(args=["customers", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "warning: ignored unknown columns: Nom, Téléphone" in result.stderr
    assert names(session) == ["Zoë Park"]


def test_a_file_without_the_required_columns_is_refused_clearly(runner, csv_file):
    result = runner.invoke(args=["customers", "import", csv_file("Email,Notes\na@b.org,hi\n")])
    assert result.exit_code == 1
    assert "needs a name column (or first and last name)" in result.output
    assert "found: Email, Notes" in result.output


def test_a_large_file_shows_progress_on_stderr_only(runner, session, csv_file, monkeypatch):
    monkeypatch.setattr(customers_cli, "LARGE_FILE_LINES", 2)
    path = csv_file("name,phone\nAnna Moors,4155550134\nCleo Park,3125550187\n")
    result = runner.invoke(args=["customers", "import", path])
    assert result.exit_code == 0
    assert "Importing" in result.stderr
    assert result.stdout.startswith("Imported 2 rows")


def test_export_writes_csv_to_stdout(runner, session):
    add_customer(session, "Anna Moors", numbers=("+14155550134", "+13125550187"), is_vip=True)
    result = runner.invoke(args=["customers", "export"])
    assert result.exit_code == 0
    header, row = result.stdout.splitlines()
    assert header.startswith("id,name,salutation,preferred_name,phone,email,notes")
    assert "Anna Moors" in row and "+14155550134; +13125550187" in row
    assert result.stderr == ""


def test_an_exported_file_imports_back_unchanged(runner, session, tmp_path):
    add_customer(session, "Anna Moors", numbers=("+14155550134",), notes="Two\nlines")
    add_customer(session, "James Moors", numbers=("+13125550187",), tags="regular")
    path = tmp_path / "customers.csv"
    exported = runner.invoke(args=["customers", "export", str(path)])
    assert exported.stdout == f"Exported 2 customers to {path}.\n"
    assert path.read_bytes().startswith(b"\xef\xbb\xbfid,name")  # a BOM, for Excel

    again = runner.invoke(args=["customers", "import", str(path)])
    assert again.exit_code == 0, again.output
    assert "0 created, 0 updated, 2 unchanged" in again.stdout


def test_import_help_shows_an_example_header(runner):
    result = runner.invoke(args=["customers", "import", "--help"])
    assert "name,phone,mobile,email,notes,vip,tags,birthday" in result.output
    assert "--skip-bad" in result.output and "--dry-run" in result.output


def test_imports_and_exports_go_in_the_audit_trail_but_dry_runs_do_not(runner, session, csv_file):
    path = csv_file("name,phone\nAnna Moors,4155550134\n")
    runner.invoke(args=["customers", "import", path, "--dry-run"])
    runner.invoke(args=["customers", "import", path])
    runner.invoke(args=["customers", "export"])
    trail = session.execute(
        select(AuditEntry.actor, AuditEntry.action, AuditEntry.target, AuditEntry.detail).order_by(
            AuditEntry.id
        )
    ).all()
    assert [tuple(entry) for entry in trail] == [
        ("cli", "import", "customers", "1 created, 0 updated"),
        ("cli", "export", "customers", "to stdout"),
    ]
