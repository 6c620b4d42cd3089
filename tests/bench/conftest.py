"""The benchmarks' smoke tests: marked ``bench`` (select with ``-m bench``) and ``e2e`` (they start
real gunicorn servers, so the fast suite, ``-m "not e2e"``, leaves them out)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import postgres


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "bench: smoke test of a benchmark in bench/ at its tiny size (no speed asserted)"
    )


@pytest.fixture(scope="session")
def workdir() -> Iterator[Path]:
    """One workspace for every smoke test: the tiny datasets and the PostgreSQL cluster are made
    once. Not under pytest's private tmp folder: the cluster runs as the postgres user, who must
    reach it."""
    folder = Path(tempfile.mkdtemp(prefix="callerid-bench-smoke-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_ok() -> None:
    """PostgreSQL is needed (tests/conftest.py leaves such tests out when
    CALLERID_TEST_DATABASES does not name it)."""
    if not postgres.available():
        pytest.fail("PostgreSQL is not installed: run scripts/test, which installs it")


@pytest.fixture(autouse=True)
def results_in_workdir(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Smoke runs write their JSON beside their databases, not among real results."""
    from bench import report

    monkeypatch.setattr(report, "RESULTS", workdir / "results")
