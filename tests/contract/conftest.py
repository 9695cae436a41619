from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest
import responses

from .registry import CASES, ContractCase
from .support import Esp


@pytest.fixture(params=CASES, ids=[case.id for case in CASES])
def esp(request: pytest.FixtureRequest, settings: Any) -> Iterator[Esp]:
    settings.ANYMAIL = {}
    case: ContractCase = request.param
    with ExitStack() as stack:
        if case.context is not None:
            stack.enter_context(case.context())
        mock = stack.enter_context(responses.RequestsMock(assert_all_requests_are_fired=False))
        yield Esp(case, mock)
