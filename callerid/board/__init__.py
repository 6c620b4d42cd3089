"""The screen-pop board at /: live cards for ringing calls, and what the desk does from them."""

from . import actions, attach, headers  # noqa: F401  (routes and hooks register on bp)
from .views import bp

__all__ = ["bp"]
