"""Settings read from the environment: one line per variable, its default, and why."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(value: str | None, default: int) -> int:
    return int(value) if value not in (None, "") else default


def _float(value: str | None, default: float) -> float:
    return float(value) if value not in (None, "") else default


def from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Return the settings found in ``environ`` (``os.environ`` by default).

    Only variables that are set appear, except where a default is a value rather than "work it out
    later"; ``create_app`` fills in the rest (database file, secret key) from the instance folder.
    """
    env = os.environ if environ is None else environ
    settings: dict[str, Any] = {
        # Folder for the SQLite file and the generated secret key; None means ./instance.
        "INSTANCE_PATH": env.get("CALLERID_INSTANCE_PATH") or None,
        # SQLAlchemy URL; None means a SQLite file in the instance folder.
        "DATABASE_URL": env.get("DATABASE_URL") or None,
        # Flask's secret; None means one generated once and kept in the instance folder.
        "SECRET_KEY": env.get("SECRET_KEY") or None,
        # Validates X-Twilio-Signature; without it every webhook is refused (fail closed).
        "TWILIO_AUTH_TOKEN": env.get("TWILIO_AUTH_TOKEN") or None,
        # The account (or subaccount) that owns the number; webhooks naming another are refused.
        "TWILIO_ACCOUNT_SID": env.get("TWILIO_ACCOUNT_SID") or None,
        # Region assumed for numbers written without a country code.
        "CALLERID_DEFAULT_REGION": (env.get("CALLERID_DEFAULT_REGION") or "US").upper(),
        # The business's IANA time zone: the manager pages count days and hours in it.
        "CALLERID_TIMEZONE": env.get("CALLERID_TIMEZONE") or "UTC",
        # Where incoming calls are dialed: E.164 number, sip: URI or client: identity.
        "CALLERID_FORWARD_TO": env.get("CALLERID_FORWARD_TO") or None,
        # External base URL (https://desk.example.com): Twilio signs the URL it called.
        "CALLERID_PUBLIC_URL": (env.get("CALLERID_PUBLIC_URL") or "").rstrip("/") or None,
        # How many reverse proxies in front of us may set X-Forwarded-*; 0 trusts none.
        "CALLERID_TRUSTED_PROXIES": _int(env.get("CALLERID_TRUSTED_PROXIES"), 0),
        # Seconds the desk phone rings before the caller hears the no-answer message.
        "CALLERID_DIAL_TIMEOUT": _int(env.get("CALLERID_DIAL_TIMEOUT"), 20),
        # What a caller hears when nobody answers; empty means hang up politely without words.
        "CALLERID_NO_ANSWER_MESSAGE": env.get(
            "CALLERID_NO_ANSWER_MESSAGE",
            "Sorry, nobody could take your call right now. We will call you back soon.",
        ),
        # Record a voicemail after the no-answer message.
        "CALLERID_VOICEMAIL": _flag(env.get("CALLERID_VOICEMAIL"), False),
        # Upper bound for one database step on the webhook path; the call connects regardless.
        "CALLERID_DB_TIMEOUT": _float(env.get("CALLERID_DB_TIMEOUT"), 1.0),
        # Where webhooks the database could not take wait (append-only, mode 0600) until it can;
        # None means spool/ in the instance folder. Shared safely by the instances using it.
        "CALLERID_SPOOL_PATH": env.get("CALLERID_SPOOL_PATH") or None,
        # The spool's disk budget in MiB (about 1,000 webhooks each); past it, a status
        # callback that the database cannot take either is answered 503.
        "CALLERID_SPOOL_MAX_MB": _int(env.get("CALLERID_SPOOL_MAX_MB"), 64),
        # TwiML sends the <Dial action> and the voicemail to /twilio/dial and /twilio/voicemail
        # rather than /twilio/status. Turn on once every instance runs a version that has them.
        "CALLERID_ACTION_ROUTES": _flag(env.get("CALLERID_ACTION_ROUTES"), False),
        # Database connections each process keeps, and how many more it may open in a burst;
        # PostgreSQL needs max_connections >= processes x (both + 1): see docs/deployment.md.
        "CALLERID_DB_POOL_SIZE": _int(env.get("CALLERID_DB_POOL_SIZE"), 10),
        "CALLERID_DB_MAX_OVERFLOW": _int(env.get("CALLERID_DB_MAX_OVERFLOW"), 10),
        # Seconds between heartbeat comments on /events; proxies close idle streams at ~60 s.
        "CALLERID_HEARTBEAT": _float(env.get("CALLERID_HEARTBEAT"), 15.0),
        # How often each process looks for new events in the database (seconds). On PostgreSQL
        # LISTEN/NOTIFY wakes it at once and this only applies while that connection is down.
        "CALLERID_EVENT_POLL": _float(env.get("CALLERID_EVENT_POLL"), 0.05),
        # Events older than this many days are pruned; screens only replay recent ones.
        "CALLERID_EVENT_RETENTION_DAYS": _int(env.get("CALLERID_EVENT_RETENTION_DAYS"), 7),
        # How new passwords are hashed (a werkzeug method). Keep scrypt: the test suite alone
        # sets a cheap method, so that its thousand logins do not take minutes.
        "CALLERID_PASSWORD_HASH": env.get("CALLERID_PASSWORD_HASH") or "scrypt",
        # Who may scrape GET /metrics without a metrics token: comma-separated addresses or
        # networks (10.0.0.0/8, ::1). Empty: tokens only. Behind a proxy the address is the one
        # CALLERID_TRUSTED_PROXIES lets us believe, never a header anyone could send.
        "CALLERID_METRICS_ALLOW": env.get("CALLERID_METRICS_ALLOW") or "",
        # Mark session cookies Secure (https only); also on whenever CALLERID_PUBLIC_URL is https.
        "SESSION_COOKIE_SECURE": _flag(env.get("CALLERID_SECURE_COOKIES"), False),
    }
    return settings
