"""Twilio: webhooks in, TwiML out. Another provider would be one more package beside this one."""

from . import messaging, outbound  # noqa: F401 - their routes join the blueprint
from .replayer import init_app
from .views import bp

__all__ = ["bp", "init_app"]
