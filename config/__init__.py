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
        # The Twilio account (or subaccount) that owns the numbers: webhooks naming another
        # account are refused, and its REST API places the calls callerid makes itself
        # (call-backs). An API key (SK...) and its secret are preferred over the auth token for
        # that, since one can be revoked alone.
        "TWILIO_ACCOUNT_SID": env.get("TWILIO_ACCOUNT_SID") or None,
        "TWILIO_API_KEY_SID": env.get("TWILIO_API_KEY_SID") or None,
        "TWILIO_API_KEY_SECRET": env.get("TWILIO_API_KEY_SECRET") or None,
        # Base URL of Twilio's REST API: a proxy, or the tests' stand-in for Twilio.
        "CALLERID_TWILIO_API_URL": env.get("CALLERID_TWILIO_API_URL") or "https://api.twilio.com",
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
        # Whisper the caller's name, VIP, alerts and last call to whoever answers, before the
        # caller is put through. Off by default: it adds a URL to the TwiML (/twilio/whisper),
        # so turn it on once every instance runs a version that has that route.
        "CALLERID_WHISPER": _flag(env.get("CALLERID_WHISPER"), False),
        # The whisper's <Say> voice (Twilio's default when empty; e.g. Polly.Joanna) and language.
        "CALLERID_WHISPER_VOICE": env.get("CALLERID_WHISPER_VOICE") or "",
        "CALLERID_WHISPER_LANGUAGE": env.get("CALLERID_WHISPER_LANGUAGE") or "en-US",
        # A "Call back" button on missed calls, the customer page and ended cards: callerid
        # places the call through Twilio's REST API (TWILIO_ACCOUNT_SID). Off by default: the
        # call's TwiML and callbacks use /twilio/callback, which every instance must have first.
        "CALLERID_CALLBACKS": _flag(env.get("CALLERID_CALLBACKS"), False),
        # The "sorry we missed you" text after a missed call (callerid/textback.py). Off by
        # default: each text is billed by Twilio, US texting needs a registered A2P 10DLC
        # campaign, and its delivery statuses come to /twilio/text-status, a route every
        # instance must have first. Its words, delay, quiet hours and caps are on the manager
        # settings page.
        "CALLERID_TEXT_BACK": _flag(env.get("CALLERID_TEXT_BACK"), False),
        # Who sends it: the line the caller called, unless that line cannot text (a fixed line
        # by phonenumbers' data, or listed in CALLERID_TEXT_NOT_FROM); then this number; then
        # the Messaging Service below, which picks a sender of its own.
        "CALLERID_TEXT_FROM": env.get("CALLERID_TEXT_FROM") or None,
        "CALLERID_TEXT_NOT_FROM": env.get("CALLERID_TEXT_NOT_FROM") or "",
        "TWILIO_MESSAGING_SERVICE_SID": env.get("TWILIO_MESSAGING_SERVICE_SID") or None,
        # Database connections each process keeps, and how many more it may open in a burst.
        # At start gunicorn trims both so that CALLERID_INSTANCES x workers x (both + 2) stays 5
        # below PostgreSQL's max_connections less its reserved ones: see docs/deployment.md.
        "CALLERID_DB_POOL_SIZE": _int(env.get("CALLERID_DB_POOL_SIZE"), 10),
        "CALLERID_DB_MAX_OVERFLOW": _int(env.get("CALLERID_DB_MAX_OVERFLOW"), 10),
        # Requests of one process that may wait for a connection at once; the next is turned
        # away at once (a webhook spools, a page answers 503) instead of joining the queue.
        "CALLERID_DB_QUEUE": _int(env.get("CALLERID_DB_QUEUE"), 100),
        # How many instances (gunicorn masters) share the database, for the sum above.
        "CALLERID_INSTANCES": _int(env.get("CALLERID_INSTANCES"), 1),
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
        # Caller look-ups (GET /api/phone/lookup) each phone token may make per minute, in
        # each process; a PBX asks once per incoming call, so this only stops a runaway one.
        "CALLERID_PHONE_LOOKUPS_PER_MINUTE": _int(
            env.get("CALLERID_PHONE_LOOKUPS_PER_MINUTE"), 600
        ),
        # Networks outbound webhooks may reach besides public addresses (a POS on the shop's
        # network: 192.168.1.0/24), comma-separated; plain http:// goes only to these.
        "CALLERID_WEBHOOK_ALLOW_NETS": env.get("CALLERID_WEBHOOK_ALLOW_NETS") or "",
        # Who may scrape GET /metrics without a metrics token: comma-separated addresses or
        # networks (10.0.0.0/8, ::1). Empty: tokens only. Behind a proxy the address is the one
        # CALLERID_TRUSTED_PROXIES lets us believe, never a header anyone could send.
        "CALLERID_METRICS_ALLOW": env.get("CALLERID_METRICS_ALLOW") or "",
        # Largest request body in bytes (413 beyond it, before reading it). Twilio's webhooks are
        # under 10 kB; CSV import runs on the command line, so nothing needs more than 64 KiB.
        "CALLERID_MAX_BODY": _int(env.get("CALLERID_MAX_BODY"), 64 * 1024),
        # Slow clients (callerid/worker.py): seconds to send a request's line and headers (also
        # the longest wait for the next request on a kept-alive connection), and to send its
        # body; then the connection is closed (the body: after a 408).
        "CALLERID_HEADER_TIMEOUT": _float(env.get("CALLERID_HEADER_TIMEOUT"), 10.0),
        "CALLERID_BODY_TIMEOUT": _float(env.get("CALLERID_BODY_TIMEOUT"), 30.0),
        # Connections one client address may hold open in each gunicorn worker (0: no cap);
        # the proxies gunicorn trusts (FORWARDED_ALLOW_IPS, loopback by default) are exempt.
        # 250 fits 50 screens behind one NAT with room; the instance allows workers x this.
        "CALLERID_CONNECTIONS_PER_ADDRESS": _int(env.get("CALLERID_CONNECTIONS_PER_ADDRESS"), 250),
        # /events streams each worker process holds per user (all their logins and tokens) and
        # per token, and in all: beyond either, 429 with Retry-After. Per process, so an
        # instance allows workers x these; 50 fits a site whose screens share one login, and
        # 3000 of a worker's 4000 connections leaves the rest to webhooks and pages.
        "CALLERID_STREAMS_PER_USER": _int(env.get("CALLERID_STREAMS_PER_USER"), 50),
        "CALLERID_STREAMS_TOTAL": _int(env.get("CALLERID_STREAMS_TOTAL"), 3000),
        # Failed logins allowed per window from one client address for one name, and for all
        # names; past either, 429 with Retry-After until the window closes. Never per name alone:
        # that would let anyone lock anyone out. Behind a proxy, set CALLERID_TRUSTED_PROXIES, or
        # every client shares the proxy's address and its limit.
        "CALLERID_LOGIN_TRIES_PER_NAME": _int(env.get("CALLERID_LOGIN_TRIES_PER_NAME"), 5),
        "CALLERID_LOGIN_TRIES_PER_ADDRESS": _int(env.get("CALLERID_LOGIN_TRIES_PER_ADDRESS"), 50),
        "CALLERID_LOGIN_WINDOW": _int(env.get("CALLERID_LOGIN_WINDOW"), 300),  # seconds
        # Mark session cookies Secure (https only); also on whenever CALLERID_PUBLIC_URL is https.
        "SESSION_COOKIE_SECURE": _flag(env.get("CALLERID_SECURE_COOKIES"), False),
    }
    return settings
