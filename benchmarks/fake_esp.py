"""A local fake ESP: answers every ESP's send API like the ESP would, after a delay.

    python benchmarks/fake_esp.py [--port 0] [--latency-ms 25]

Listens on 127.0.0.1 only and prints its base URL on the first line. A backend
points its API URL at ``<base URL>/<esp>/...`` (``<esp>`` an ESP of
``anymail demo``, e.g. ``postmark``); the answer is that ESP's canned answer in
``anymail._demo.esps``, the same one ``anymail demo`` uses. HTTP/1.1 with
keep-alive, one thread per connection, so concurrent clients overlap their waits.
Needs this project's ``src`` importable (``PYTHONPATH=src``).
"""

from __future__ import annotations

import argparse
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

from anymail._demo.esps import DEMO_ESPS


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse their connections
    # Headers and body go out as separate writes: without TCP_NODELAY, Nagle's
    # algorithm and the client's delayed ACK would add ~40 ms to every answer.
    disable_nagle_algorithm = True
    latency = 0.0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        esp, _, rest = self.path.lstrip("/").partition("/")
        demo = DEMO_ESPS.get(esp)
        if demo is None:
            self._answer(404, {"Content-Type": "text/plain"}, b"unknown ESP")
            return
        request = SimpleNamespace(
            method="POST", url=f"http://esp.invalid/{rest}", headers=self.headers, body=body
        )
        status, headers, answer = demo.answer(request)
        if self.latency:
            time.sleep(self.latency)
        self._answer(status, headers, answer)

    def _answer(self, status: int, headers: dict[str, str], body: Any) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: thousands of requests per run


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay before each answer")
    args = parser.parse_args()

    from anymail.cli import configure_django

    configure_django()
    Handler.latency = args.latency_ms / 1000
    server = Server(("127.0.0.1", args.port), Handler)
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
