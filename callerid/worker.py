"""gunicorn's gevent worker, made to hang up on clients it has refused.

After answering 413, gunicorn would keep the connection and read the rest of the refused body to
find the next request: 50 MB read and thrown away, holding a connection slot for as long as the
sender cares to dribble. Closing instead costs nothing (config/gunicorn.conf.py names this class).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from gunicorn.workers.ggevent import GeventWorker

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# Answers after which the rest of the request is not worth reading.
CLOSE_AFTER = ("413",)


class Worker(GeventWorker):
    """The gevent worker, closing the connection after an answer in ``CLOSE_AFTER``."""

    def load_wsgi(self) -> None:
        super().load_wsgi()
        self.wsgi = closing_after_refusal(self.wsgi)


def closing_after_refusal(app: WSGIApp) -> WSGIApp:
    """Wrap ``app`` so that gunicorn closes the connection after a status in ``CLOSE_AFTER``.

    gunicorn drops a ``Connection: close`` header set by the application, so the wrapper asks
    gunicorn's own response object, whose method ``start_response`` is."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if status[:3] in CLOSE_AFTER:
                response = getattr(start_response, "__self__", None)
                if response is not None and hasattr(response, "force_close"):
                    response.force_close()
            return start_response(status, headers, exc_info)

        return app(environ, start)

    return wsgi
