"""The manager pages' one write shape: a change either commits, says so and goes back, or is
refused, rolled back, says why and goes back."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import abort, current_app, flash, redirect
from werkzeug.wrappers import Response

from .. import db
from ..events import stream


def sentence(refusal: Exception | str) -> str:
    """A service's message as a sentence for a flash: capital first, full stop last."""
    message = str(refusal)
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


@contextmanager
def refused(
    back: str,
    *errors: type[Exception],
    say: Callable[[Any], str] = str,  # given the error caught
    category: str = "error",
) -> Iterator[None]:
    """Run the change in the ``with`` block; should it raise one of ``errors``, roll back, flash
    ``say(error)`` as a flash of ``category`` and answer a redirect to ``back`` (through
    ``abort``, so that the view reads as the change alone). Other exceptions pass: a bug is
    never shown as a refusal."""
    try:
        yield
    except errors as error:
        db.session().rollback()
        flash(say(error), category)
        abort(redirect(back))


def saved(message: str, back: str, *, wake: bool = False) -> Response:
    """Commit, flash ``message`` and redirect to ``back``; ``wake`` this process's event
    streams too when the change was announced to open screens."""
    db.session().commit()
    if wake:
        stream.wake(current_app)
    flash(message, "success")
    return redirect(back)
