from collections.abc import Iterator
from typing import Any

import pytest

from anymail.sandbox import Sandbox
from anymail.sandbox.app import serve_django


@pytest.fixture
def app_url(settings: Any) -> Iterator[str]:
    """The test project (tests.urls), served over HTTP on 127.0.0.1."""
    # Mandrill's view rebuilds the signed URL from the Host header, which Django checks.
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    with serve_django() as url:
        yield url


@pytest.fixture
def sandbox(app_url: str) -> Iterator[Sandbox]:
    """A running sandbox whose webhooks go to the served app's Anymail URLs."""
    with Sandbox(webhook_url=f"{app_url}/anymail/") as running:
        yield running


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
