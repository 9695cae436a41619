"""SNS message signatures (anymail.webhooks.signing.SnsVerifier) and certificate handling.

Real AWS-signed vectors use AWS's (expired) certificates: the clock is pinned to
each message's own Timestamp, and certificates are served from the fixtures, never
fetched.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import responses

from anymail.exceptions import AnymailWebhookTransientError, AnymailWebhookValidationFailure
from anymail.webhooks._signers import SnsTestSigner, make_certificate
from anymail.webhooks._sns_certs import (
    CERT_FETCH_TIMEOUT,
    CERT_MAX_SIZE,
    AwsSnsTrust,
    CertificateCache,
    ScalewaySnsTrust,
    fetch_certificate,
)
from anymail.webhooks.signing import SnsVerifier, sns_string_to_sign
from tests.utils import FIXTURES_DIR, fixture_json

SES_FIXTURES = FIXTURES_DIR / "amazon_ses"
TEST_CERT = "SimpleNotificationService-77a6c7533e50bed7fac7e9df571e806b.pem"
#: Every SNS envelope fixture signed with the throwaway test certificate.
SIGNED_FIXTURES = sorted(
    path.name
    for pattern in ("sns_*.json", "tracking_*.json", "inbound_s*.json")
    for path in SES_FIXTURES.glob(pattern)
    if path.name not in {"sns_signature_vectors.json", "tracking_bad_signature.json"}
    and path.name != "tracking_untrusted_cert_url.json"
)
VECTORS = fixture_json("amazon_ses", "sns_signature_vectors.json")
TOPIC = "arn:aws:sns:us-east-1:123456789012:SES_Tracking_Events"


class CertFetcher:
    """Serves certificates from local files by URL path, recording every URL asked for."""

    def __init__(self, directory: Path = SES_FIXTURES / "aws_certs") -> None:
        self.directory = directory
        self.urls: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.urls.append(url)
        return (self.directory / url.rsplit("/", 1)[1]).read_bytes()


def at(timestamp: str) -> Callable[[], datetime]:
    return lambda: datetime.fromisoformat(timestamp)


def verifier_for(
    message: dict[str, Any], fetcher: Callable[[str], bytes], **kwargs: Any
) -> SnsVerifier:
    """A verifier whose clock is the message's own Timestamp, with a private cache."""
    kwargs.setdefault("clock", at(message.get("Timestamp", "2026-03-06T20:00:00Z")))
    kwargs.setdefault("cert_cache", CertificateCache())
    return SnsVerifier(fetcher=fetcher, **kwargs)


@pytest.fixture(scope="module")
def signer() -> SnsTestSigner:
    return SnsTestSigner()


def notification(**fields: Any) -> dict[str, Any]:
    return {
        "Type": "Notification",
        "MessageId": "5b1c2d3e-0000-4000-8000-000000000001",
        "TopicArn": TOPIC,
        "Message": '{"notificationType":"Delivery"}\n',
        "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        **fields,
    }


# --- Real AWS vectors --------------------------------------------------------------


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["name"])
def test_real_aws_vectors_verify(vector: dict[str, Any]) -> None:
    message = vector["message"]
    assert sns_string_to_sign(message) == vector["string_to_sign"].encode()
    fetcher = CertFetcher()
    signed_at = verifier_for(message, fetcher).verify(message)
    assert signed_at == datetime.fromisoformat(message["Timestamp"])
    assert fetcher.urls == [message["SigningCertURL"]]


@pytest.mark.parametrize("vector", VECTORS["negative"], ids=lambda v: v["name"])
def test_real_aws_mutations_are_rejected(vector: dict[str, Any]) -> None:
    message = vector["message"]
    fetcher = CertFetcher()
    with pytest.raises(AnymailWebhookValidationFailure):
        verifier_for(message, fetcher).verify(message)
    if vector["name"].startswith("cert-url-"):
        assert fetcher.urls == [], "fetched an untrusted certificate URL"


def test_real_certificate_expired_is_rejected() -> None:
    vector = next(v for v in VECTORS["vectors"] if v["name"] == "notification-v2")
    message = vector["message"]
    # The certificate that signed it expired on 2026-10-14.
    after_expiry = lambda: datetime(2026, 10, 15, tzinfo=UTC)  # noqa: E731
    with pytest.raises(AnymailWebhookValidationFailure, match="not valid now"):
        verifier_for(message, CertFetcher(), clock=after_expiry).verify(message)


# --- Fixtures signed with the throwaway test certificate ----------------------------


@pytest.mark.parametrize("name", SIGNED_FIXTURES)
def test_every_ses_fixture_verifies_with_the_test_certificate(name: str) -> None:
    message = fixture_json("amazon_ses", name)
    fetcher = CertFetcher(SES_FIXTURES)
    assert verifier_for(message, fetcher).verify(message) == datetime.fromisoformat(
        message["Timestamp"]
    )
    assert [url.rsplit("/", 1)[1] for url in fetcher.urls] == [TEST_CERT]


def test_bad_signature_fixture_is_rejected() -> None:
    message = fixture_json("amazon_ses", "tracking_bad_signature.json")
    with pytest.raises(AnymailWebhookValidationFailure, match="incorrect SNS message signature"):
        verifier_for(message, CertFetcher(SES_FIXTURES)).verify(message)


def test_untrusted_cert_url_fixture_is_rejected_without_fetching(
    mocked_responses: responses.RequestsMock,
) -> None:
    message = fixture_json("amazon_ses", "tracking_untrusted_cert_url.json")
    # The real fetcher, with every HTTP call intercepted: none may be made.
    with pytest.raises(AnymailWebhookValidationFailure, match="untrusted SNS SigningCertURL"):
        verifier_for(message, fetch_certificate).verify(message)
    assert len(mocked_responses.calls) == 0


@pytest.mark.parametrize(
    "field", ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
)
def test_one_flipped_byte_in_any_signed_field_is_rejected(field: str) -> None:
    message = fixture_json("amazon_ses", "tracking_event_delivery.json")
    value = message[field]
    index = len(value) // 2
    message[field] = value[:index] + chr(ord(value[index]) ^ 1) + value[index + 1 :]
    with pytest.raises(AnymailWebhookValidationFailure):
        verifier_for(message, CertFetcher(SES_FIXTURES)).verify(message)


def test_one_flipped_byte_in_the_signature_is_rejected() -> None:
    message = fixture_json("amazon_ses", "tracking_event_delivery.json")
    signature = bytearray(base64.b64decode(message["Signature"]))
    signature[10] ^= 0x01
    message["Signature"] = base64.b64encode(bytes(signature)).decode()
    with pytest.raises(AnymailWebhookValidationFailure, match="incorrect"):
        verifier_for(message, CertFetcher(SES_FIXTURES)).verify(message)


# --- Runtime-signed messages ------------------------------------------------------


@pytest.mark.parametrize("version", ["1", "2"])
def test_runtime_signed_messages_verify(signer: SnsTestSigner, version: str) -> None:
    message = signer.sign(notification(Subject="Hello"), version=version)
    assert SnsVerifier(fetcher=signer.fetch, cert_cache=CertificateCache()).verify(message)
    assert message["SigningCertURL"] == signer.cert_url("us-east-1")


def test_wrong_key_is_rejected(signer: SnsTestSigner) -> None:
    impostor = SnsTestSigner()
    message = impostor.sign(notification(), cert_url=signer.cert_url("us-east-1"))
    with pytest.raises(AnymailWebhookValidationFailure, match="incorrect"):
        SnsVerifier(fetcher=signer.fetch, cert_cache=CertificateCache()).verify(message)


def test_signature_version_2_can_be_required(signer: SnsTestSigner) -> None:
    verifier = SnsVerifier(
        fetcher=signer.fetch, cert_cache=CertificateCache(), min_signature_version=2
    )
    verifier.verify(signer.sign(notification(), version="2"))
    with pytest.raises(AnymailWebhookValidationFailure, match="SignatureVersion"):
        verifier.verify(signer.sign(notification(), version="1"))


def test_topic_allow_list(signer: SnsTestSigner) -> None:
    other = "arn:aws:sns:us-east-1:999999999999:Someone_Elses_Topic"
    fetched_before = len(signer.fetched)
    verifier = SnsVerifier(fetcher=signer.fetch, cert_cache=CertificateCache(), topic_arns=[TOPIC])
    with pytest.raises(AnymailWebhookValidationFailure, match="not one of the allowed topics"):
        verifier.verify(signer.sign(notification(TopicArn=other)))
    assert len(signer.fetched) == fetched_before
    verifier.verify(signer.sign(notification()))


def test_subscription_confirmation_requires_every_signed_field(signer: SnsTestSigner) -> None:
    confirmation = {
        "Type": "SubscriptionConfirmation",
        "MessageId": "c1d7b1a2-0000-4000-8000-000000000000",
        "Token": "token-value",
        "TopicArn": TOPIC,
        "Message": "You have chosen to subscribe.\nTo confirm...",
        "SubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription",
        "Timestamp": notification()["Timestamp"],
    }
    verifier = SnsVerifier(fetcher=signer.fetch, cert_cache=CertificateCache())
    verifier.verify(signer.sign(confirmation))
    without_token = {key: value for key, value in confirmation.items() if key != "Token"}
    with pytest.raises(AnymailWebhookValidationFailure, match="Token"):
        verifier.verify(signer.sign(without_token))


@pytest.mark.parametrize(
    "url",
    [
        "https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService-0a1b.pem",
        "https://s3.amazonaws.com/SimpleNotificationService-0a1b.pem",
        "https://s3.amazonaws.com/sns-certs/SimpleNotificationService-0a1b.pem",
        "https://evil.s3.us-east-1.amazonaws.com/SimpleNotificationService-0a1b.pem",
        "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-0a1b.pem",
        "https://sns.us-east-1.amazonaws.com./SimpleNotificationService-0a1b.pem",
        "https://sns.us-east-1.amazonaws.com:443/SimpleNotificationService-0a1b.pem",
        "https://user@sns.us-east-1.amazonaws.com/SimpleNotificationService-0a1b.pem",
        "https://sns.us-east-1.amazonaws.com\\@evil.example/SimpleNotificationService-0a1b.pem",
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0a1b.pem?x=1",
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0a1b.pem#x",
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0A1B.pem",
        "https://sns.us-east-1.amazonaws.com/%53impleNotificationService-0a1b.pem",
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-.pem",
        "https://sns.us-east-1.amazonaws.com/../SimpleNotificationService-0a1b.pem",
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0a1b.pem\n",
        "https://sns.us-east-1.amazonaws.com/Simple\tNotificationService-0a1b.pem",
        "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-0a1b.pem",
        "//sns.us-east-1.amazonaws.com/SimpleNotificationService-0a1b.pem",
        "https://[::1]/SimpleNotificationService-0a1b.pem",
        "https://sns.us-east-1.amazonaws.com.cn/SimpleNotificationService-0a1b.pem",
        "",
        None,
        123,
        ["https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0a1b.pem"],
    ],
)
def test_attacker_cert_urls_are_rejected_before_any_fetch(
    signer: SnsTestSigner, url: Any, mocked_responses: responses.RequestsMock
) -> None:
    message = signer.sign(notification())
    message["SigningCertURL"] = url
    fetcher = CertFetcher()
    for fetch in (fetcher, fetch_certificate):
        with pytest.raises(AnymailWebhookValidationFailure, match="SigningCertURL"):
            SnsVerifier(fetcher=fetch, cert_cache=CertificateCache()).verify(message)
    assert fetcher.urls == []
    assert len(mocked_responses.calls) == 0


def test_aws_cert_hosts_by_region() -> None:
    trust = AwsSnsTrust()
    assert trust.cert_host("eu-west-3") == "sns.eu-west-3.amazonaws.com"
    assert trust.cert_host("cn-north-1") == "sns.cn-north-1.amazonaws.com.cn"
    assert trust.topic_region("arn:aws-cn:sns:cn-north-1:123456789012:t") == "cn-north-1"
    assert trust.topic_region("arn:aws-us-gov:sns:us-gov-east-1:123456789012:t.fifo") == (
        "us-gov-east-1"
    )
    for arn in [
        "arn:aws:s3:::bucket",
        "arn:aws:sns:us-east-1:123:topic",
        "arn:aws:sns:US-EAST-1:123456789012:topic",
        "arn:aws:sns:us-east-1:123456789012:topic/../x",
        "arn:evil:sns:us-east-1:123456789012:topic",
        "arn:aws:sns:us-east-1.evil.example:123456789012:topic",
    ]:
        assert trust.topic_region(arn) is None, arn


@pytest.mark.parametrize(
    "region, cert_name, accepted",
    [
        ("us-east-1", "sns.amazonaws.com", True),
        ("af-south-1", "sns-signing.af-south-1.amazonaws.com", True),
        ("us-east-1", "sns-signing.af-south-1.amazonaws.com", False),
        ("cn-north-1", "sns-cn-north-1.amazonaws.com.cn", True),
        ("us-gov-east-1", "sns-us-gov-west-1.amazonaws.com", True),
        ("us-east-1", "sns-us-gov-west-1.amazonaws.com", False),
        ("us-east-1", "evil.example", False),
        ("us-east-1", "sns.amazonaws.com.evil.example", False),
    ],
)
def test_certificate_name_must_be_one_sns_signs_with(
    region: str, cert_name: str, accepted: bool
) -> None:
    signer = SnsTestSigner(name=cert_name)
    partition = {"cn": "aws-cn", "us-gov": "aws-us-gov"}.get(region.rsplit("-", 2)[0], "aws")
    message = signer.sign(notification(TopicArn=f"arn:{partition}:sns:{region}:123456789012:t"))
    assert message["SigningCertURL"].startswith(f"https://sns.{region}.amazonaws.com")
    verifier = SnsVerifier(fetcher=signer.fetch, cert_cache=CertificateCache())
    if accepted:
        verifier.verify(message)
    else:
        with pytest.raises(AnymailWebhookValidationFailure, match="not issued to a name"):
            verifier.verify(message)


def test_certificate_validity_period_is_checked() -> None:
    now = datetime(2026, 6, 1, tzinfo=UTC)
    signer = SnsTestSigner(clock=lambda: now, valid_for=timedelta(days=30))
    message = signer.sign(notification(Timestamp="2026-06-01T00:00:00.000Z"))
    for moment, valid in [
        (now, True),
        (now + timedelta(days=29), True),
        (now + timedelta(days=31), False),
        (now - timedelta(days=2), False),
    ]:
        verifier = SnsVerifier(
            fetcher=signer.fetch, cert_cache=CertificateCache(), clock=lambda m=moment: m
        )
        if valid:
            verifier.verify(message)
        else:
            with pytest.raises(AnymailWebhookValidationFailure, match="not valid now"):
                verifier.verify(message)


HOSTILE_MESSAGES: list[Any] = [
    None,
    "Notification",
    ["Type", "Notification"],
    {},
    {"Type": ["Notification"]},
    {"Type": {"a": 1}},
    {"Type": "Unknown"},
]


@pytest.mark.parametrize("message", HOSTILE_MESSAGES)
def test_hostile_envelopes_are_one_validation_failure(message: Any) -> None:
    fetcher = CertFetcher()
    with pytest.raises(AnymailWebhookValidationFailure):
        SnsVerifier(fetcher=fetcher, cert_cache=CertificateCache()).verify(message)
    assert fetcher.urls == []


@pytest.mark.parametrize(
    "field, value",
    [
        ("Message", 12),
        ("Message", None),
        ("Message", {"json": "object"}),
        ("MessageId", ["id"]),
        ("Subject", None),
        ("TopicArn", "arn:aws:s3:::bucket"),
        ("TopicArn", None),
        ("Timestamp", "yesterday"),
        ("Timestamp", "2026-13-45T99:99:99Z"),
        ("Timestamp", "2026-03-06T19:31:32.895+01:00"),
        ("SignatureVersion", 1),
        ("SignatureVersion", "3"),
        ("SignatureVersion", ["1"]),
        ("SignatureVersion", None),
        ("Signature", None),
        ("Signature", 12),
        ("Signature", "é"),
        ("Signature", "AAAA" * 10_000),
    ],
)
def test_hostile_fields_are_one_validation_failure(
    signer: SnsTestSigner, field: str, value: Any
) -> None:
    message = signer.sign(notification())
    message[field] = value
    fetched_before = len(signer.fetched)
    with pytest.raises(AnymailWebhookValidationFailure):
        SnsVerifier(fetcher=signer.fetch, cert_cache=CertificateCache()).verify(message)
    if field not in {"Message", "MessageId", "Subject", "Signature"}:
        assert len(signer.fetched) == fetched_before


# --- Certificate cache and fetch ---------------------------------------------------


def test_certificates_are_cached_by_url(signer: SnsTestSigner) -> None:
    cache = CertificateCache()
    fetcher = CertFetcher(SES_FIXTURES)
    messages = [fixture_json("amazon_ses", name) for name in SIGNED_FIXTURES[:3]]
    for message in messages:
        verifier_for(message, fetcher, cert_cache=cache).verify(message)
    assert len(fetcher.urls) == 1


def test_fetch_failures_are_transient_and_not_cached() -> None:
    message = fixture_json("amazon_ses", "tracking_event_delivery.json")
    cache = CertificateCache()
    calls: list[str] = []

    def flaky(url: str) -> bytes:
        calls.append(url)
        if len(calls) == 1:
            raise AnymailWebhookTransientError("network down")
        return (SES_FIXTURES / TEST_CERT).read_bytes()

    with pytest.raises(AnymailWebhookTransientError):
        verifier_for(message, flaky, cert_cache=cache).verify(message)
    assert len(cache) == 0
    verifier_for(message, flaky, cert_cache=cache).verify(message)
    verifier_for(message, flaky, cert_cache=cache).verify(message)
    assert len(calls) == 2


def test_a_non_certificate_answer_is_transient() -> None:
    message = fixture_json("amazon_ses", "tracking_event_delivery.json")
    with pytest.raises(AnymailWebhookTransientError, match="PEM"):
        verifier_for(message, lambda url: b"<html>Service Unavailable</html>").verify(message)
    assert not issubclass(AnymailWebhookTransientError, AnymailWebhookValidationFailure)


def test_cache_is_bounded_least_recently_used_first() -> None:
    cache = CertificateCache(max_entries=2)
    certificates = [SnsTestSigner().certificate for _ in range(3)]
    cache.put("a", certificates[0])
    cache.put("b", certificates[1])
    assert cache.get("a") is certificates[0]  # "a" is now the most recent
    cache.put("c", certificates[2])
    assert len(cache) == 2
    assert cache.get("b") is None
    assert cache.get("a") is certificates[0]
    assert cache.get("c") is certificates[2]


CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123abcd.pem"


def test_fetch_certificate_request(mocked_responses: responses.RequestsMock) -> None:
    pem = (SES_FIXTURES / TEST_CERT).read_bytes()
    mocked_responses.get(CERT_URL, body=pem)
    assert fetch_certificate(CERT_URL) == pem
    request = mocked_responses.calls[0].request
    # True, or the CA bundle requests found in the environment: verification on either way.
    assert request.req_kwargs["verify"] not in (False, None)  # type: ignore[attr-defined]
    assert request.req_kwargs["stream"] is True  # type: ignore[attr-defined]
    assert request.req_kwargs["timeout"] == CERT_FETCH_TIMEOUT == 5.0  # type: ignore[attr-defined]
    assert request.headers["User-Agent"].startswith("django-anymail/")


@pytest.mark.parametrize(
    "answer",
    [
        {"status": 404, "body": "Not Found"},
        {"status": 503, "body": ""},
        {"status": 301, "headers": {"Location": "https://evil.example/cert.pem"}},
        {"status": 200, "body": b"x" * (CERT_MAX_SIZE + 1)},
        {"body": requests.ConnectionError("refused")},
        {"body": requests.Timeout("slow")},
    ],
)
def test_fetch_certificate_failures_are_transient(
    mocked_responses: responses.RequestsMock, answer: dict[str, Any]
) -> None:
    mocked_responses.get(CERT_URL, **answer)
    mocked_responses.get("https://evil.example/cert.pem", body="redirected")
    with pytest.raises(AnymailWebhookTransientError, match="SNS signing certificate"):
        fetch_certificate(CERT_URL)
    # Never follows a redirect.
    assert [call.request.url for call in mocked_responses.calls] == [CERT_URL]


def test_end_to_end_with_the_real_fetcher(
    signer: SnsTestSigner, mocked_responses: responses.RequestsMock
) -> None:
    message = signer.sign(notification())
    mocked_responses.get(message["SigningCertURL"], body=signer.cert_pem)
    verifier = SnsVerifier(cert_cache=CertificateCache())
    verifier.verify(message)
    verifier.verify(signer.sign(notification(MessageId="second")))
    assert len(mocked_responses.calls) == 1


# --- Scaleway (SNS-compatible, own trust chain) --------------------------------------

SCALEWAY_TOPIC = "arn:scw:sns:fr-par:project-00000000-0000-4000-8000-00000000abcd:tem-events"


@pytest.fixture(scope="module")
def scaleway_ca() -> tuple[Any, Any]:
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC)
    certificate = make_certificate(
        key, "Test SNS CA", now - timedelta(days=1), now + timedelta(days=3650), is_ca=True
    )
    return certificate, key


def scaleway_message(signer: SnsTestSigner, **fields: Any) -> dict[str, Any]:
    url = f"https://messaging.s3.fr-par.scw.cloud/fr-par/sns/cert-{signer.cert_id}.pem"
    fields.setdefault("TopicArn", SCALEWAY_TOPIC)
    return signer.sign(notification(**fields), cert_url=url)


def scaleway_verifier(scaleway_ca: tuple[Any, Any], signer: SnsTestSigner) -> SnsVerifier:
    from cryptography.hazmat.primitives import serialization

    chain = scaleway_ca[0].public_bytes(serialization.Encoding.PEM)
    return SnsVerifier(
        esp_name="Scaleway",
        trust=ScalewaySnsTrust(chain),
        fetcher=signer.fetch,
        cert_cache=CertificateCache(),
    )


def test_scaleway_certificate_issued_by_the_trust_chain(scaleway_ca: tuple[Any, Any]) -> None:
    signer = SnsTestSigner(name="sns.mnq.fr-par.scaleway.com", issuer=scaleway_ca)
    scaleway_verifier(scaleway_ca, signer).verify(scaleway_message(signer))


def test_scaleway_rejects_certificates_outside_the_chain(scaleway_ca: tuple[Any, Any]) -> None:
    self_signed = SnsTestSigner(name="sns.mnq.fr-par.scaleway.com")
    with pytest.raises(AnymailWebhookValidationFailure, match="Scaleway's trust chain"):
        scaleway_verifier(scaleway_ca, self_signed).verify(scaleway_message(self_signed))


@pytest.mark.parametrize(
    "url",
    [
        "https://sns.fr-par.amazonaws.com/SimpleNotificationService-0a1b.pem",
        "https://messaging.s3.fr-par.scw.cloud.evil.example/fr-par/sns/cert.pem",
        "http://messaging.s3.fr-par.scw.cloud/fr-par/sns/cert.pem",
        "https://messaging.s3.fr-par.scw.cloud/fr-par/sns/cert.txt",
        "https://user@messaging.s3.fr-par.scw.cloud/fr-par/sns/cert.pem",
    ],
)
def test_scaleway_cert_url_rules(scaleway_ca: tuple[Any, Any], url: str) -> None:
    signer = SnsTestSigner(issuer=scaleway_ca)
    message = scaleway_message(signer)
    message["SigningCertURL"] = url
    with pytest.raises(AnymailWebhookValidationFailure, match="SigningCertURL"):
        scaleway_verifier(scaleway_ca, signer).verify(message)
    assert signer.fetched == []


def test_scaleway_and_aws_topics_do_not_mix(scaleway_ca: tuple[Any, Any]) -> None:
    signer = SnsTestSigner(issuer=scaleway_ca)
    with pytest.raises(AnymailWebhookValidationFailure, match="TopicArn"):
        scaleway_verifier(scaleway_ca, signer).verify(scaleway_message(signer, TopicArn=TOPIC))


def test_scaleway_trust_chain_must_be_certificates() -> None:
    from anymail.exceptions import AnymailImproperlyConfigured

    with pytest.raises(AnymailImproperlyConfigured, match="trust chain"):
        ScalewaySnsTrust(b"not a certificate")


def test_signed_fixture_list_is_not_empty() -> None:
    # Guards the glob above: the parametrized fixture test must not silently run nothing.
    assert len(SIGNED_FIXTURES) >= 20
    assert json.loads((SES_FIXTURES / SIGNED_FIXTURES[0]).read_text())["SigningCertURL"]
