"""What the Amazon SES webhook tests share: fixtures, a pinned clock, stubbed AWS calls.

The SES fixtures were signed with a throwaway certificate whose key is gone, and
at times long past. Tests re-sign each fixture envelope with a test signer whose
certificate is valid at the fixture's time (every other field kept as it is), and
pin the views' clock to just after the envelope's ``Timestamp``.
"""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, Final

import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from django.test import Client

from anymail._testing_amazon_ses import sns_webhook_request
from anymail.backends import amazon_ses as ses_backend
from anymail.webhooks._signers import SnsTestSigner
from anymail.webhooks._sns_certs import DEFAULT_CERT_CACHE
from anymail.webhooks.amazon_ses import AmazonSESBaseWebhookView
from tests.backends.test_amazon_ses import AWS_ENVIRONMENT_TO_CLEAR, AWS_TEST_ENVIRONMENT
from tests.utils import FIXTURES_DIR, fixture_json

SECRET: Final = "sns-webhook-user:sns-webhook-password-123"
#: Around the fixtures' SNS Timestamps (2026-11-21).
FIXTURE_TIME: Final = datetime.fromisoformat("2026-11-21T09:00:00Z")
EXPECTATIONS: Final[dict[str, Any]] = fixture_json("amazon_ses", "webhook_expectations.json")[
    "fixtures"
]
RAW_MESSAGE = (FIXTURES_DIR / "amazon_ses" / "inbound_raw_message.eml").read_bytes()
S3_BUCKET = "example-inbound-mail"
S3_KEY = "inbound/7qe3kq0ab5n2v1c8d4u6mrd2u9o3f1t7hjg4ks01"
#: The URL paths of the two views.
TRACKING_URL: Final = "/anymail/amazon_ses/tracking/"
INBOUND_URL: Final = "/anymail/amazon_ses/inbound/"


def fixture(name: str) -> dict[str, Any]:
    return fixture_json("amazon_ses", name)


def sns_headers(name: str) -> dict[str, str]:
    """The headers SNS sent with fixture ``name`` (the content type goes separately)."""
    return {
        header: value
        for header, value in EXPECTATIONS[name]["headers"].items()
        if header != "Content-Type"
    }


def make_signer() -> SnsTestSigner:
    """A signer whose certificate is valid at the fixtures' times."""
    return SnsTestSigner(clock=lambda: FIXTURE_TIME)


def no_network(sock: socket.socket, address: Any) -> None:
    raise AssertionError(f"A test tried to connect to {address!r}")


def use_aws_test_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy AWS credentials and region, and no socket may connect anywhere."""
    for name, value in AWS_TEST_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    for name in AWS_ENVIRONMENT_TO_CLEAR:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(socket.socket, "connect", no_network)


@contextmanager
def pinned_clock(now: datetime) -> Iterator[None]:
    """The Amazon SES views' clock (freshness and certificate validity) set to ``now``."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(AmazonSESBaseWebhookView, "now", lambda self: now)
        yield


def just_after(envelope: dict[str, Any], delay: timedelta = timedelta(seconds=30)) -> datetime:
    return datetime.fromisoformat(envelope["Timestamp"]) + delay


def post(request: Any, url: str, at: datetime) -> Any:
    with pinned_clock(at):
        return request.post(Client(), url)


def post_fixture(
    name: str, signer: SnsTestSigner, *, envelope: dict[str, Any] | None = None, **options: Any
) -> Any:
    """Post fixture ``name`` re-signed by ``signer``, at its own time, as SNS sent it."""
    envelope = envelope if envelope is not None else fixture(name)
    headers = {**sns_headers(name), **options.pop("headers", {})}
    request = sns_webhook_request(envelope, signer=signer, headers=headers, **options)
    return post(request, EXPECTATIONS[name]["url"], just_after(envelope))


def add_s3_object(aws: AwsStub, content: bytes = RAW_MESSAGE, metadata: Any = None) -> None:
    aws.add(
        "s3",
        "get_object",
        {
            "Body": StreamingBody(io.BytesIO(content), len(content)),
            "ContentLength": len(content),
            "Metadata": metadata or {},
        },
        {"Bucket": S3_BUCKET, "Key": S3_KEY},
    )


class AwsStub:
    """Replaces the boto3 clients the views make with botocore-Stubbed real clients.

    ``add(service, method, response, expected_params)`` queues an answer; every
    client made is recorded in ``created`` as (service name, client params) and
    its closing in ``closed``. A client the test queued nothing for fails its call.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.created: list[tuple[str, dict[str, Any]]] = []
        self.closed: list[str] = []
        self._queued: dict[str, list[tuple[str, Any, Any, bool]]] = {}
        self._stubbers: list[Stubber] = []
        self._create = ses_backend.create_boto3_client
        monkeypatch.setattr(ses_backend, "create_boto3_client", self.create)

    def add(self, service: str, method: str, response: Any, expected_params: Any = None) -> None:
        self._queued.setdefault(service, []).append((method, response, expected_params, False))

    def add_error(self, service: str, method: str, code: str, message: str, status: int) -> None:
        error = {"code": code, "message": message, "status": status}
        self._queued.setdefault(service, []).append((method, error, None, True))

    def create(self, service_name: str, session_params: Any, client_params: dict[str, Any]) -> Any:
        client = self._create(service_name, session_params, client_params)
        self.created.append((service_name, client_params))
        stubber = Stubber(client)
        for method, answer, expected, is_error in self._queued.pop(service_name, []):
            if is_error:
                stubber.add_client_error(
                    method,
                    service_error_code=answer["code"],
                    service_message=answer["message"],
                    http_status_code=answer["status"],
                )
            else:
                stubber.add_response(method, answer, expected)
        stubber.activate()
        self._stubbers.append(stubber)
        close = client.close

        def recorded_close() -> None:
            self.closed.append(service_name)
            close()

        client.close = recorded_close
        return client

    def assert_all_used(self) -> None:
        assert not self._queued, f"clients never made for {sorted(self._queued)}"
        for stubber in self._stubbers:
            stubber.assert_no_pending_responses()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsStub]:
    stub = AwsStub(monkeypatch)
    yield stub
    stub.assert_all_used()


@pytest.fixture
def ses_webhook_environment(monkeypatch: pytest.MonkeyPatch, settings: Any) -> Iterator[None]:
    use_aws_test_environment(monkeypatch)
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    DEFAULT_CERT_CACHE.clear()
    yield
    DEFAULT_CERT_CACHE.clear()


@pytest.fixture(scope="session")
def signer() -> SnsTestSigner:
    return make_signer()
