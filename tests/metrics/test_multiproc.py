"""The metrics folder at a gunicorn start (the rest is tests/e2e/test_metrics.py, on gunicorn)."""

from __future__ import annotations

from callerid.metrics import multiproc


def test_a_start_removes_only_the_metrics_files_an_earlier_run_left(tmp_path):
    for name in ("counter_4101.db", "gauge_livesum_4101.db", "README.txt"):
        (tmp_path / name).write_bytes(b"x")
    assert multiproc.prepare(str(tmp_path)) == 2
    assert sorted(path.name for path in tmp_path.iterdir()) == ["README.txt"]


def test_a_missing_folder_is_created(tmp_path):
    folder = tmp_path / "run" / "callerid-8000"
    assert multiproc.prepare(str(folder)) == 0
    assert folder.is_dir()
