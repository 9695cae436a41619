"""Pinned SNS signing certificates (``<ESP>_SNS_SIGNING_CERTIFICATES``): a pinned URL is
never downloaded, and its certificate still goes through every other check.

Each request is built by :mod:`anymail.testing` (which hands the signer's certificate
to the process's cache), then the cache is emptied: as for an app in another process
than the signer, the certificate can only come from the setting or a download.
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from typing import Any

import pytest
import responses
from django.core import checks

from anymail._testing_amazon_ses import sns_webhook_request
from anymail._testing_scaleway import make_signer as scaleway_signer
from anymail._testing_scaleway import scaleway_test_trust_chain, scaleway_webhook_request
from anymail.checks import check_amazon_ses_webhooks, check_scaleway_webhooks
from anymail.exceptions import AnymailImproperlyConfigured
from anymail.testing import WebhookRequest, captured_events
from anymail.webhooks._signers import SnsTestSigner
from anymail.webhooks._sns_certs import DEFAULT_CERT_CACHE, DEFAULT_TRUST_CHAINS
from anymail.webhooks.signing import utc_now

from .amazon_ses_support import TRACKING_URL, fixture, just_after, post, sns_headers
from .scaleway_support import SECRET as SCALEWAY_SECRET
from .scaleway_support import URL as SCALEWAY_URL
from .scaleway_support import fixture as scaleway_fixture
from .scaleway_support import scaleway_test_context
from .support import assert_refused

pytestmark = pytest.mark.usefixtures("ses_webhook_environment")

NAME = "tracking_event_delivery.json"
SETTING = "AMAZON_SES_SNS_SIGNING_CERTIFICATES"


def pem(signer: SnsTestSigner) -> str:
    return signer.cert_pem.decode("ascii")


def pin(settings: Any, *signers: SnsTestSigner, url: str | None = None) -> None:
    pinned = {url or signer.cert_url("us-east-1"): pem(signer) for signer in signers}
    settings.ANYMAIL = {**settings.ANYMAIL, SETTING: pinned}


def ses_request(signer: SnsTestSigner) -> WebhookRequest:
    request = sns_webhook_request(fixture(NAME), signer=signer, headers=sns_headers(NAME))
    DEFAULT_CERT_CACHE.clear()  # nothing handed over: as in another process
    return request


def post_at_fixture_time(request: WebhookRequest) -> Any:
    with captured_events() as events:
        response = post(request, TRACKING_URL, just_after(fixture(NAME)))
    return response, events


def resigned(request: WebhookRequest, signer: SnsTestSigner, url: str) -> WebhookRequest:
    """``request`` signed again by ``signer``, naming the certificate at ``url``."""
    signed = signer.sign(json.loads(request.body), cert_url=url)
    return request.with_body(json.dumps(signed).encode())


def fixture_time_signer(**options: Any) -> SnsTestSigner:
    at = just_after(fixture(NAME))
    return SnsTestSigner(clock=lambda: at, **options)


def test_pinned_certificate_verifies_without_download(
    settings: Any, mocked_responses: responses.RequestsMock
) -> None:
    signer = fixture_time_signer()
    pin(settings, signer)
    response, events = post_at_fixture_time(ses_request(signer))
    assert response.status_code == 200, response.content
    assert [event.event_type for event in events] == ["delivered"]
    assert len(mocked_responses.calls) == 0  # (an unregistered URL would have been a 503)


def test_without_the_setting_the_certificate_is_downloaded(
    mocked_responses: responses.RequestsMock,
) -> None:
    signer = fixture_time_signer()
    url = signer.cert_url("us-east-1")
    response, events = post_at_fixture_time(ses_request(signer))
    assert response.status_code == 503  # Amazon's host can't serve the sandbox's certificate
    assert events == []
    assert [call.request.url for call in mocked_responses.calls] == [url]


def test_a_url_not_pinned_is_still_downloaded(
    settings: Any, mocked_responses: responses.RequestsMock
) -> None:
    pinned, other = fixture_time_signer(), fixture_time_signer()
    pin(settings, pinned)
    url = other.cert_url("us-east-1")
    mocked_responses.get(url, body=other.cert_pem)
    response, events = post_at_fixture_time(ses_request(other))
    assert response.status_code == 200, response.content
    assert len(events) == 1
    assert [call.request.url for call in mocked_responses.calls] == [url]


def test_a_pinned_url_is_not_replaced_by_a_cached_download(settings: Any) -> None:
    pinned, impostor = fixture_time_signer(), fixture_time_signer()
    url = pinned.cert_url("us-east-1")
    pin(settings, pinned)
    forged = resigned(ses_request(impostor), impostor, url)
    DEFAULT_CERT_CACHE.put(url, impostor.certificate)
    assert_refused(*post_at_fixture_time(forged), b"incorrect SNS message signature")


def test_forged_signature_with_a_pinned_certificate_is_refused(
    settings: Any, mocked_responses: responses.RequestsMock
) -> None:
    pinned, forger = fixture_time_signer(), fixture_time_signer()
    url = pinned.cert_url("us-east-1")
    pin(settings, pinned)
    # The forger's signature, naming the pinned certificate.
    assert_refused(
        *post_at_fixture_time(resigned(ses_request(forger), forger, url)),
        b"incorrect SNS message signature",
    )
    assert len(mocked_responses.calls) == 0


def test_expired_pinned_certificate_is_refused(
    settings: Any, mocked_responses: responses.RequestsMock
) -> None:
    at = just_after(fixture(NAME))
    expired = SnsTestSigner(clock=lambda: at - timedelta(days=30), valid_for=timedelta(days=7))
    pin(settings, expired)
    assert_refused(*post_at_fixture_time(ses_request(expired)), b"not valid now")
    assert len(mocked_responses.calls) == 0


def test_pinned_certificate_must_still_carry_an_sns_signing_name(
    settings: Any, mocked_responses: responses.RequestsMock
) -> None:
    signer = fixture_time_signer(name="example.com")
    pin(settings, signer)
    assert_refused(
        *post_at_fixture_time(ses_request(signer)), b"not issued to a name Amazon SNS signs with"
    )


def test_pinned_url_must_still_be_the_topic_region_s(
    settings: Any, mocked_responses: responses.RequestsMock
) -> None:
    signer = fixture_time_signer()
    url = signer.cert_url("eu-west-1")  # the topic is in us-east-1
    pin(settings, signer, url=url)
    assert_refused(
        *post_at_fixture_time(resigned(ses_request(signer), signer, url)),
        b"untrusted SNS SigningCertURL",
    )
    assert len(mocked_responses.calls) == 0


BROKEN_SETTINGS = [
    pytest.param("not a dict", "expected a dict", id="not-a-dict"),
    pytest.param({"https://sns.us-east-1.amazonaws.com/x.pem": "nope"}, "not the PEM", id="pem"),
    pytest.param({"https://sns.us-east-1.amazonaws.com/x.pem": 42}, "not the PEM", id="type"),
    pytest.param({"http://example.com/x.pem": "..."}, "not an https", id="url"),
    pytest.param({42: "..."}, "not an https", id="key"),
]


@pytest.mark.parametrize(("value", "problem"), BROKEN_SETTINGS)
def test_malformed_setting_is_improperly_configured(
    settings: Any, value: Any, problem: str
) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, SETTING: value}
    with pytest.raises(AnymailImproperlyConfigured, match=f"{SETTING}: .*{problem}"):
        post_at_fixture_time(ses_request(fixture_time_signer()))
    [error] = [message for message in check_amazon_ses_webhooks() if message.id == "anymail.E008"]
    assert error.level == checks.ERROR
    assert SETTING in error.msg and problem in error.msg


def test_two_certificates_in_one_value_are_refused(settings: Any) -> None:
    first, second = fixture_time_signer(), fixture_time_signer()
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        SETTING: {first.cert_url("us-east-1"): pem(first) + pem(second)},
    }
    [error] = [message for message in check_amazon_ses_webhooks() if message.id == "anymail.E008"]
    assert "not the PEM text of one certificate" in error.msg


def test_pinned_certificates_need_cryptography(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    pin(settings, fixture_time_signer())
    monkeypatch.setitem(sys.modules, "cryptography", None)  # as if not installed
    [error] = [message for message in check_amazon_ses_webhooks() if message.id == "anymail.E008"]
    assert "django-anymail[amazon-ses]" in error.msg


def test_a_valid_setting_passes_the_checks(settings: Any) -> None:
    pin(settings, fixture_time_signer())
    assert [m for m in check_amazon_ses_webhooks() if m.id == "anymail.E008"] == []


# --- Scaleway: the same setting, and the trust chain still applies ----------------------


@pytest.fixture
def scaleway(settings: Any) -> Any:
    settings.ANYMAIL = {
        "WEBHOOK_SECRET": SCALEWAY_SECRET,
        "SCALEWAY_SNS_TRUST_CHAIN": scaleway_test_trust_chain(),
    }
    with scaleway_test_context():
        yield settings


def scaleway_post(request: WebhookRequest) -> Any:
    DEFAULT_CERT_CACHE.clear()
    DEFAULT_TRUST_CHAINS.clear()
    from django.test import Client

    with captured_events() as events:
        response = request.post(Client(), SCALEWAY_URL)
    return response, events


def test_scaleway_pinned_certificate_verifies_without_download(
    scaleway: Any, mocked_responses: responses.RequestsMock
) -> None:
    signer = scaleway_signer()
    request = scaleway_webhook_request(
        scaleway_fixture("webhook_event_email_queued.json"), signer=signer, timestamp=utc_now()
    )
    url = json.loads(request.body)["SigningCertURL"]
    scaleway.ANYMAIL = {**scaleway.ANYMAIL, "SCALEWAY_SNS_SIGNING_CERTIFICATES": {url: pem(signer)}}
    response, events = scaleway_post(request)
    assert response.status_code == 200, response.content
    assert len(events) == 1
    assert len(mocked_responses.calls) == 0


def test_scaleway_pinned_certificate_must_come_from_the_trust_chain(
    scaleway: Any, mocked_responses: responses.RequestsMock
) -> None:
    impostor = SnsTestSigner(name="sns.mnq.scaleway.com")  # self-signed, not the CA's
    request = scaleway_webhook_request(
        scaleway_fixture("webhook_event_email_queued.json"), timestamp=utc_now()
    )
    url = json.loads(request.body)["SigningCertURL"]
    scaleway.ANYMAIL = {
        **scaleway.ANYMAIL,
        "SCALEWAY_SNS_SIGNING_CERTIFICATES": {url: pem(impostor)},
    }
    response, events = scaleway_post(resigned(request, impostor, url))
    assert_refused(response, events, b"not issued by Scaleway's trust chain")
    assert len(mocked_responses.calls) == 0


def test_scaleway_malformed_setting_fails_the_checks(scaleway: Any) -> None:
    scaleway.ANYMAIL = {**scaleway.ANYMAIL, "SCALEWAY_SNS_SIGNING_CERTIFICATES": {"x": "y"}}
    [error] = [message for message in check_scaleway_webhooks() if message.id == "anymail.E008"]
    assert "SCALEWAY_SNS_SIGNING_CERTIFICATES" in error.msg
