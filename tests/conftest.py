from collections.abc import Iterator

import pytest
import responses
from django.core import mail
from django.core.cache import caches

# Anymail's public fixtures (anymail_tracking_events ...), as users load them.
pytest_plugins = ["anymail.testing"]


@pytest.fixture
def mocked_responses() -> Iterator[responses.RequestsMock]:
    """Intercept every ``requests`` call; unmatched calls raise ConnectionError."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture(autouse=True)
def empty_outbox() -> None:
    mail.outbox = []


@pytest.fixture(autouse=True)
def empty_caches() -> Iterator[None]:
    """Webhook views remember events in the default cache: no test sees another's."""
    caches["default"].clear()
    yield
    for cache in caches.all(initialized_only=True):
        cache.clear()
