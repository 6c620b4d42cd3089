"""Twilio: webhooks in, TwiML out. Another provider would be one more package beside this one."""

from flask import Flask

from . import messaging, outbound, replayer, texting  # noqa: F401 - their routes join the blueprint
from .views import bp


def init_app(app: Flask) -> None:
    replayer.init_app(app)
    texting.init_app(app)


__all__ = ["bp", "init_app"]
