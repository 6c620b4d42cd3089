"""Finding 12: DATABASE_URL as managed services hand it out works, and one that cannot work
stops the start with one line naming DATABASE_URL."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from callerid import create_app
from callerid.database_url import UnusableURL

from ..conftest import settings_for
from ..e2e.server import TOP


@pytest.mark.parametrize("scheme", ["postgres://", "postgresql://"])
def test_a_driverless_postgres_url_upgrades_and_serves_with_psycopg_3(postgres, tmp_path, scheme):
    url = scheme + postgres.url.split("://", 1)[1]
    app = create_app(settings_for(url, tmp_path / "instance"))
    assert app.config["DATABASE_URL"].startswith("postgresql+psycopg://")
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert app.test_client().get("/readyz").status_code == 200


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("mysql://shop:s3cret@db.example/callerid", "driver is not installed"),
        ("postgresql+psycopg2://shop:s3cret@db.example/callerid", "driver is not installed"),
        ("cockroach://shop:s3cret@db.example/callerid", "knows no database"),
        ("callerid.sqlite3", "is not a database URL"),
    ],
)
def test_a_url_that_cannot_work_stops_the_app_in_one_line(tmp_path, url, says):
    with pytest.raises(UnusableURL) as stopped:
        create_app(settings_for(url, tmp_path / "instance"))
    line = str(stopped.value)
    assert line.startswith("DATABASE_URL") and says in line
    assert "\n" not in line and "s3cret" not in line


def test_gunicorn_with_an_unusable_url_stops_with_that_line_and_no_traceback(tmp_path):
    env = {**os.environ, "DATABASE_URL": "mysql://shop:s3cret@db.example/callerid"}
    env["CALLERID_INSTANCE_PATH"] = str(tmp_path / "instance")
    started = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "wsgi:app"],
        cwd=TOP,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode != 0
    errors = [line for line in started.stderr.splitlines() if "DATABASE_URL" in line]
    assert len(errors) == 1 and "driver is not installed" in errors[0]
    assert "Traceback" not in started.stderr
