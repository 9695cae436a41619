"""The plain message's whole request, per ESP (each case's ``plain_send``)."""

from __future__ import annotations

import json

import pytest

from ..backends.support import assert_sent
from ..utils import make_message
from .support import Esp


def test_plain_message_whole_request(esp: Esp) -> None:
    plain = esp.case.plain_send
    if plain is None:
        pytest.skip("no plain_send in the case")
    if plain.answer is None:
        esp.mock_success(plain.url)
    else:
        esp.mock_answer(200, plain.answer)
    message = make_message(to=["Recipient Name <to@example.com>"])
    assert esp.connection().send_messages([message]) == 1

    assert esp.request_count == 1
    request = esp.last_request
    assert request.url == plain.url
    for name in plain.absent_headers:
        assert name not in request.headers
    # No keys for the features the message doesn't use.
    assert json.loads(request.body) == plain.body

    answer = plain.answer
    if answer is None:
        assert esp.case.answer is not None
        answer = json.loads(esp.case.answer(request)[2])
    assert_sent(message, plain.status, plain.message_id, answer)
