"""What a view or command hands the services of the business's configuration (services never
read it themselves): its default region, and today's date in its time zone."""

from __future__ import annotations

from datetime import date

from flask import current_app

from . import clock


def region() -> str:
    """``CALLERID_DEFAULT_REGION``: how a number written without its country is read."""
    return str(current_app.config["CALLERID_DEFAULT_REGION"])


def today() -> date:
    """Today in ``CALLERID_TIMEZONE``."""
    return clock.business_today(current_app.config)
