"""The settings webhooks depend on are checked when the app starts."""

from __future__ import annotations

import pytest

from callerid import create_app
from callerid.webhooks import addresses

from ..conftest import settings_for


def test_the_app_refuses_to_start_with_events_kept_under_a_day(tmp_path):
    settings = settings_for(f"sqlite:///{tmp_path / 'x.sqlite3'}", tmp_path / "i")
    with pytest.raises(RuntimeError, match="CALLERID_EVENT_RETENTION_DAYS must be at least 1"):
        create_app({**settings, "CALLERID_EVENT_RETENTION_DAYS": 0})


def test_the_app_refuses_to_start_with_an_allow_list_it_cannot_read(tmp_path):
    settings = settings_for(f"sqlite:///{tmp_path / 'x.sqlite3'}", tmp_path / "i")
    with pytest.raises(addresses.BadAllowNets, match="'the-pos'"):
        create_app({**settings, "CALLERID_WEBHOOK_ALLOW_NETS": "192.168.1.0/24, the-pos"})
