"""A fake Resend and Postmark on 127.0.0.1 that injects faults, for the end-to-end test.

Each message is known by its subject ("e2e <esp> <number>"); the number decides
which fault its first attempt(s) meet (see :func:`fault`). The server records
every attempt and every delivery (a request it accepted). Resend's
``Idempotency-Key`` works as Resend documents it: a repeated key gets the first
answer again, and no second delivery.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
import uuid
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: How long the "read timeout" fault waits before answering (the client gives up first).
SLOW_ANSWER = 3.0

# Faults: (status, extra headers) answers, or one of these.
RESET = "reset"  # connection reset, the request not processed
TIMEOUT = "timeout"  # the request accepted (delivered), the answer too late


def fault(number: int, attempt: int) -> Any:
    """What attempt ``attempt`` (1, 2 ...) of message ``number`` meets (None: success)."""
    if number % 100 == 4 and attempt == 1:
        return (429, {"Retry-After": "1"})
    if number % 100 == 6 and attempt == 1:
        return TIMEOUT
    if number % 25 == 5 and attempt == 1:
        return RESET
    if number % 10 == 1 and attempt == 1:
        return (500, {})
    if number % 10 == 2 and attempt <= 2:
        return (503 if attempt == 1 else 502, {})
    if number % 10 == 3 and attempt == 1:
        return (429, {})
    return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a connection this server reset on purpose


class FakeESP:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        #: subject -> [(time, fault or "ok")] for every request.
        self.attempts: dict[str, list[tuple[float, str]]] = defaultdict(list)
        #: subject -> number of accepted requests.
        self.deliveries: dict[str, int] = defaultdict(int)
        self.idempotent_answers: dict[str, bytes] = {}
        self.server = _Server(("127.0.0.1", 0), self._handler_class())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeESP:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        esp = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                data = json.loads(body)
                if self.path == "/resend/emails":
                    subject, answer = data["subject"], {"id": str(uuid.uuid4())}
                elif self.path == "/postmark/email":
                    subject = data["Subject"]
                    answer = {
                        "To": data["To"],
                        "SubmittedAt": "2030-01-01T00:00:00Z",
                        "MessageID": str(uuid.uuid4()),
                        "ErrorCode": 0,
                        "Message": "OK",
                    }
                else:
                    self._answer(404, b'{"message": "not found"}')
                    return
                esp.handle(self, subject, answer)

            def _answer(self, status: int, body: bytes, headers: Any = ()) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def handle(self, handler: Any, subject: str, answer: dict[str, Any]) -> None:
        key = handler.headers.get("Idempotency-Key")
        with self.lock:
            attempt = len(self.attempts[subject]) + 1
            injected = fault(int(subject.rsplit(" ", 1)[1]), attempt)
            self.attempts[subject].append((time.monotonic(), str(injected or "ok")))
            if injected == RESET:
                # SO_LINGER 0: close() sends a TCP reset.
                handler.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                handler.close_connection = True
                handler.connection.close()
                return
            if isinstance(injected, tuple):
                status, headers = injected
                handler.close_connection = True
                handler._answer(status, b'{"message": "injected fault"}', headers.items())
                return
            if key is not None and key in self.idempotent_answers:
                body = self.idempotent_answers[key]  # Resend: the first answer again
            else:
                body = json.dumps(answer).encode()
                self.deliveries[subject] += 1
                if key is not None:
                    self.idempotent_answers[key] = body
        if injected == TIMEOUT:
            time.sleep(SLOW_ANSWER)
        with contextlib.suppress(OSError):  # the client may have given up waiting
            handler._answer(200, body)
