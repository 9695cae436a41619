from collections.abc import Iterator

import pytest

from anymail.sandbox import Sandbox


@pytest.fixture
def sandbox(live_server: object) -> Iterator[Sandbox]:
    """A running sandbox whose webhooks go to the live test server's Anymail URLs."""
    with Sandbox(webhook_url=f"{live_server}/anymail/") as running:
        yield running
