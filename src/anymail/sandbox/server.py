"""The sandbox's HTTP server: ESP APIs under ``/<esp>/``, the web UI everywhere else."""

from __future__ import annotations

import re
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .esps import ApiRequest, ApiResponse, Emulator, EspError
from .store import Store

#: Request bodies above this are refused (no ESP accepts more in one call).
MAX_BODY = 60 * 1024 * 1024


def api_route(
    emulator: Emulator, path: str, method: str = "POST"
) -> tuple[str, dict[str, str]] | None:
    """(handler name, path parameters) for an API path under the ESP's prefix."""
    base = re.escape(emulator.api_path.strip("/")).replace(r"\{region\}", "[^/]+")
    endpoints = emulator.get_endpoints if method == "GET" else emulator.endpoints
    for pattern, handler in endpoints.items():
        full = f"/{emulator.esp}/{base}/{pattern}" if base else f"/{emulator.esp}/{pattern}"
        match = re.fullmatch(full, path)
        if match:
            return handler, {k: v for k, v in match.groupdict().items() if v is not None}
    return None


class Handler(BaseHTTPRequestHandler):
    server: SandboxHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.sandbox.verbose:
            super().log_message(format, *args)

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ValueError("request body too large")
        return self.rfile.read(length) if length else b""

    def send(self, response: ApiResponse) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def do_GET(self) -> None:
        from . import ui

        url = urlsplit(self.path)
        emulator = self.server.sandbox.emulators.get(url.path.strip("/").split("/", 1)[0])
        route = api_route(emulator, url.path, "GET") if emulator is not None else None
        if emulator is None or route is None:
            self.send(ui.get(self.server.sandbox, url))
            return
        handler, params = route
        request = ApiRequest("GET", url.path, dict(self.headers.items()), b"")
        try:
            emulator.authenticate(request)
            self.send(getattr(emulator, handler)(request, **params))
        except EspError as exc:
            self.send(exc.response)

    do_HEAD = do_GET

    def do_POST(self) -> None:
        from . import ui

        path = urlsplit(self.path).path
        try:
            body = self.read_body()
        except ValueError:
            self.send(ApiResponse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, b"Too large", "text/plain"))
            return
        esp = path.strip("/").split("/", 1)[0]
        emulator = self.server.sandbox.emulators.get(esp)
        if emulator is None:
            form = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
            self.send(ui.post(self.server.sandbox, path, dict(form)))
            return
        request = ApiRequest("POST", path, dict(self.headers.items()), body)
        self.send(self.server.sandbox.handle_api(emulator, request))


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], sandbox: Any) -> None:
        super().__init__(address, Handler)
        self.sandbox = sandbox


def serve_in_thread(server: SandboxHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="anymail-sandbox", daemon=True)
    thread.start()
    return thread


def handle_api(store: Store, emulator: Emulator, request: ApiRequest) -> ApiResponse:
    route = api_route(emulator, request.path)
    if route is None:
        response = ApiResponse.json(
            404, {"message": f"Not found: {emulator.name} has no endpoint {request.path}"}
        )
        store.reject(emulator.esp, request, response)
        return response
    handler, params = route
    try:
        emulator.authenticate(request)
        messages, response = getattr(emulator, handler)(request, **params)
    except EspError as exc:
        store.reject(emulator.esp, request, exc.response)
        return exc.response
    if not messages and response.status >= 400:  # e.g. Mailjet's per-message errors
        store.reject(emulator.esp, request, response)
    store.add(emulator.esp, messages, request, response)
    return response
