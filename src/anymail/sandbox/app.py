"""Serving the Django app itself on 127.0.0.1, for tests and ``anymail demo``.

The sandbox posts webhooks over real HTTP, so the app must listen somewhere:
this serves Django's WSGI handler from a thread (stdlib wsgiref, one thread per
request). Not for production, like ``runserver``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve_django(host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve the configured Django project; yields its base URL ("http://127.0.0.1:PORT")."""
    from django.core.wsgi import get_wsgi_application

    server = make_server(
        host,
        port,
        get_wsgi_application(),
        server_class=_ThreadingWSGIServer,
        handler_class=_QuietHandler,
    )
    thread = threading.Thread(target=server.serve_forever, name="anymail-app", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
