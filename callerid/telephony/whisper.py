"""The whisper's words, worked out within a deadline: the caller waits while Twilio fetches them.

The look-up runs beside the request and the request waits for it at most ``DEADLINE`` seconds;
a late or failed look-up gives None, and the view answers an empty document, so the call is put
through at once. The look-up itself gives up soon after (its statements are bounded too).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping

from flask import Flask

from .. import db
from ..db import utcnow
from ..directory import whisper

log = logging.getLogger(__name__)
# Seconds the request waits for the words: Twilio's read limit on the whisper URL is 1.5 s.
DEADLINE = 0.8


def words(app: Flask, form: Mapping[str, str]) -> str | None:
    """What the person who answered should hear for this answering leg; None if it could not be
    worked out in time."""
    found: list[str] = []
    worker = threading.Thread(target=_look_up, args=(app, dict(form), found), daemon=True)
    worker.start()
    worker.join(DEADLINE)
    if found:
        return found[0]
    if worker.is_alive():
        log.warning("whisper for %s: no words within %.1f s", form.get("ParentCallSid"), DEADLINE)
    return None


def _look_up(app: Flask, form: dict[str, str], found: list[str]) -> None:
    try:
        with db.new_session(app) as session:
            db.bound(session, DEADLINE)
            found.append(
                whisper.for_call(
                    session,
                    form.get("ParentCallSid", ""),
                    form.get("From", ""),
                    app.config["CALLERID_DEFAULT_REGION"],
                    utcnow(),
                )
            )
    except Exception:  # noqa: BLE001 - whatever failed, the caller is put through without words
        log.exception("whisper for %s failed", form.get("ParentCallSid"))
