"""End-to-end fixtures: a migrated database, real gunicorn on it, a signed-request poster."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from callerid.cli.database import upgrade

from ..conftest import DESK, ENGINES
from ..twilio import AUTH_TOKEN, signature
from .server import Server


@pytest.fixture(params=ENGINES)
def live_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database made by our migrations, as `flask db upgrade` makes it for users."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    else:
        from ..conftest import _empty_postgres

        url = request.getfixturevalue("postgres").url
        _empty_postgres(url)
    upgrade(url)
    return url


@pytest.fixture(scope="module", params=ENGINES)
def module_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """A database made by our migrations, shared by the tests of one module: for tests that
    look only at the rows and events they make themselves."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('live') / 'live.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres").new_database("module")
    upgrade(url)
    return url


@pytest.fixture(scope="module")
def module_server(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One gunicorn (two workers) for a whole module, on ``module_database_url``: starting one
    costs about a second, which per test added up to a minute of the suite."""
    instance = tmp_path_factory.mktemp("server") / "instance"
    live = Server(server_env(module_database_url, instance), workers=2).start()
    yield live
    live.stop()


def server_env(database_url: str, instance: Path, **extra: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "CALLERID_INSTANCE_PATH": str(instance),
        "SECRET_KEY": "e2e-secret",
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "CALLERID_FORWARD_TO": DESK,
        "CALLERID_HEARTBEAT": "2",
        # Tests date their rows in UTC (the server's clock is the real one, not a frozen one).
        "CALLERID_TIMEZONE": "UTC",
        # As scripts/run and the systemd unit do: /metrics sums the workers through this folder.
        "PROMETHEUS_MULTIPROC_DIR": str(instance / "metrics"),
        **extra,
    }


@pytest.fixture
def server(live_database_url: str, tmp_path: Path) -> Iterator[Server]:
    """gunicorn with two workers (so events must cross processes) on the live database."""
    live = Server(server_env(live_database_url, tmp_path / "instance"), workers=2).start()
    yield live
    live.stop()


def post_signed(base_url: str, path: str, params: dict[str, str], **kwargs) -> requests.Response:
    """POST to a real server with the X-Twilio-Signature Twilio would compute for that URL."""
    headers = {"X-Twilio-Signature": signature(base_url + path, params)}
    return requests.post(base_url + path, data=params, headers=headers, timeout=10, **kwargs)


from .browser import board_server, browser, desk_user, live_db, screens  # noqa: E402,F401
