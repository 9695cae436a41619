from collections.abc import Iterator

import pytest
import responses
from django.core import mail


@pytest.fixture
def mocked_responses() -> Iterator[responses.RequestsMock]:
    """Intercept every ``requests`` call; unmatched calls raise ConnectionError."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture(autouse=True)
def empty_outbox() -> None:
    mail.outbox = []
