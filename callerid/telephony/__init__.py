"""Twilio: webhooks in, TwiML out. Another provider would be one more package beside this one."""

from .views import bp

__all__ = ["bp"]
