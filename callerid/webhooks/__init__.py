"""Outbound webhooks: the moment a call rings, sent to other systems (a chat channel, a POS, a
CRM) in the Standard Webhooks format or as a Slack-compatible message.

Deliveries follow the events table by position (delivery.py) from a background dispatcher in
each process (dispatcher.py); nothing on the path of a call or a screen waits for them."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Check the settings now; start this process's dispatcher on its first request (in the
    worker, after gunicorn's fork)."""
    from . import addresses, dispatcher

    if int(app.config["CALLERID_EVENT_RETENTION_DAYS"]) < 1:
        # Deliveries are retried for 24 hours from the events table: shorter would lose them.
        raise RuntimeError("CALLERID_EVENT_RETENTION_DAYS must be at least 1 (webhook retries)")
    app.extensions["callerid.webhook_allow"] = addresses.parse_allow_nets(
        app.config.get("CALLERID_WEBHOOK_ALLOW_NETS") or ""
    )
    dispatcher.init_app(app)
