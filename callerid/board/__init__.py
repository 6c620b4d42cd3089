"""The screen-pop board at /: live cards for ringing calls."""

from .views import bp

__all__ = ["bp"]
