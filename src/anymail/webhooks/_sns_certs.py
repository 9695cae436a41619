"""SNS signing certificates: which URLs may be fetched, how, and which certificates count.

A trust policy (:class:`SnsTrust`) answers three questions for
:class:`~anymail.webhooks.signing.SnsVerifier`: the region of a topic, whether a
``SigningCertURL`` may be fetched at all (checked before any network call), and
whether the certificate found there may sign for that region.

- :class:`AwsSnsTrust`: the URL must be the topic region's own SNS host
  (``https://sns.<region>.amazonaws.com/SimpleNotificationService-<hex>.pem``);
  HTTPS to that host is the trust anchor, and the certificate must carry a name
  Amazon SNS signs with.
- :class:`ScalewaySnsTrust`: Scaleway's SNS-compatible service; the certificate
  must be issued by a certificate of Scaleway's published trust chain (given, or
  downloaded from :data:`SCALEWAY_TRUST_CHAIN_URL`).

Fetched certificates are kept in a :class:`CertificateCache`; certificates an
operator pins by URL are in front of it (``_sns_pinning``).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Final, Protocol
from urllib.parse import SplitResult, urlsplit

import requests

from .. import __version__
from ..exceptions import (
    AnymailImproperlyConfigured,
    AnymailWebhookTransientError,
)

if TYPE_CHECKING:
    from cryptography.x509 import Certificate

#: Seconds to wait for a certificate (SNS gives a webhook 15 s in all).
CERT_FETCH_TIMEOUT: Final = 5.0
#: Largest certificate file accepted (real ones are about 2 KB).
CERT_MAX_SIZE: Final = 64 * 1024
#: Certificates kept per process (AWS's own validators keep 10).
CERT_CACHE_SIZE: Final = 10

#: Where Scaleway publishes the CA chain of its SNS signing certificates, by region
#: (Scaleway's "verifying webhooks" docs; the chain is valid until 2032).
SCALEWAY_TRUST_CHAIN_URL: Final = (
    "https://messaging.s3.fr-par.scw.cloud/{region}/sns/sns-trust-chain.pem"
)

_URL_CHARS_RE: Final = re.compile(r"[\x21-\x7e]{1,2048}")


class SnsTrust(Protocol):
    def topic_region(self, topic_arn: str) -> str | None:
        """The region named by ``topic_arn``, or None if it is not a topic ARN."""

    def cert_url_problem(self, url: str, region: str) -> str | None:
        """Why ``url`` must not be fetched, or None when it may be."""

    def certificate_problem(
        self, certificate: Certificate, region: str, now: datetime
    ) -> str | None:
        """Why ``certificate`` may not sign for ``region``, or None when it may."""


def _plain_https_url(url: str) -> tuple[SplitResult | None, str | None]:
    """Split ``url`` if it is a plain https URL: no userinfo, port, query or fragment."""
    if not _URL_CHARS_RE.fullmatch(url):
        return None, "it is not a plain ASCII URL"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None, "it is not a URL"
    if parts.scheme != "https":
        return None, "it must use https"
    if "@" in parts.netloc:
        return None, "it must not contain user info"
    if port is not None or ":" in parts.netloc:
        return None, "it must not name a port"
    if parts.query or parts.fragment or "?" in url or "#" in url:
        return None, "it must not have a query or fragment"
    return parts, None


def _certificate_names(certificate: Certificate) -> set[str]:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    names = {
        str(attribute.value).lower()
        for attribute in certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    }
    try:
        alt_names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except (x509.ExtensionNotFound, ValueError):
        return names
    return names | {name.lower() for name in alt_names.value.get_values_for_type(x509.DNSName)}


class AwsSnsTrust:
    """Amazon SNS: certificate URL pinned to ``sns.<TopicArn region>.amazonaws.com``."""

    topic_arn_re: Final = re.compile(
        r"arn:aws(?:-cn|-us-gov)?:sns:([a-z]{2}(?:-[a-z]+)+-[0-9]+):[0-9]{12}:[\w-]{1,256}(?:\.fifo)?",
        re.ASCII,
    )
    cert_path_re: Final = re.compile(r"/SimpleNotificationService-[0-9a-f]{1,128}\.pem")

    def topic_region(self, topic_arn: str) -> str | None:
        match = self.topic_arn_re.fullmatch(topic_arn)
        return match.group(1) if match else None

    @staticmethod
    def cert_host(region: str) -> str:
        suffix = ".amazonaws.com.cn" if region.startswith("cn-") else ".amazonaws.com"
        return f"sns.{region}{suffix}"

    def cert_url_problem(self, url: str, region: str) -> str | None:
        parts, problem = _plain_https_url(url)
        if parts is None:
            return problem
        host = self.cert_host(region)
        if parts.netloc.lower() != host:
            return f"its host must be {host}, the topic's region"
        if not self.cert_path_re.fullmatch(parts.path):
            return "its path must be /SimpleNotificationService-<hex>.pem"
        return None

    @staticmethod
    def signing_names(region: str) -> set[str]:
        """Names SNS signing certificates carry: most regions share one; opt-in regions,
        China and GovCloud have their own."""
        names = {"sns.amazonaws.com", f"sns-signing.{region}.amazonaws.com"}
        if region.startswith("cn-"):
            names.add(f"sns-{region}.amazonaws.com.cn")
        if region.startswith("us-gov-"):
            names.add("sns-us-gov-west-1.amazonaws.com")
        return names

    def certificate_problem(
        self, certificate: Certificate, region: str, now: datetime
    ) -> str | None:
        if _certificate_names(certificate) & self.signing_names(region):
            return None
        return "it is not issued to a name Amazon SNS signs with"


class ScalewaySnsTrust:
    """Scaleway Topics and Events: certificates must come from Scaleway's trust chain.

    ``trust_chain_pem`` is Scaleway's published chain (PEM certificates). Without
    it, the chain is downloaded for the topic's region from
    :data:`SCALEWAY_TRUST_CHAIN_URL` at first use (HTTPS to Scaleway's own bucket
    is then the trust anchor) and kept for the process. A signing certificate
    directly issued by a chain certificate valid now is trusted. The certificate
    URL must still be plain https on one of :attr:`cert_hosts` (Scaleway's
    domains), so an attacker cannot make the server fetch from anywhere.
    """

    topic_arn_re: Final = re.compile(
        r"arn:scw:sns:([a-z]{2}-[a-z]{3}):project-[0-9a-f-]{36}:[\w.-]{1,256}", re.ASCII
    )
    cert_hosts: tuple[str, ...] = (".scw.cloud", ".scaleway.com")

    def __init__(
        self,
        trust_chain_pem: bytes | str | None = None,
        *,
        fetcher: Callable[..., bytes] | None = None,
        chain_cache: TrustChainCache | None = None,
    ) -> None:
        self.anchors = None if trust_chain_pem is None else self._configured(trust_chain_pem)
        self.fetcher = fetcher or fetch_certificate
        self.chain_cache = DEFAULT_TRUST_CHAINS if chain_cache is None else chain_cache

    @staticmethod
    def _configured(pem: bytes | str) -> list[Certificate]:
        anchors = parse_certificates(pem)
        if not anchors:
            raise AnymailImproperlyConfigured(
                "The Scaleway SNS trust chain (SCALEWAY_SNS_TRUST_CHAIN) is not a list of "
                f"PEM certificates. Copy it again from {SCALEWAY_TRUST_CHAIN_URL}."
            )
        return anchors

    def topic_region(self, topic_arn: str) -> str | None:
        match = self.topic_arn_re.fullmatch(topic_arn)
        return match.group(1) if match else None

    def cert_url_problem(self, url: str, region: str) -> str | None:
        parts, problem = _plain_https_url(url)
        if parts is None:
            return problem
        if not parts.netloc.lower().endswith(self.cert_hosts):
            return "its host must be a Scaleway domain"
        if not parts.path.endswith(".pem"):
            return "it must name a .pem file"
        return None

    def chain(self, region: str) -> list[Certificate]:
        """The trust anchors for ``region``: the configured chain, or Scaleway's published one.

        A download that fails raises :exc:`AnymailWebhookTransientError` (5xx, the
        ESP retries) and is tried again on the next message.
        """
        if self.anchors is not None:
            return self.anchors
        url = SCALEWAY_TRUST_CHAIN_URL.format(region=region)
        anchors = self.chain_cache.get(url)
        if anchors is None:
            anchors = parse_certificates(self.fetcher(url, what="Scaleway SNS trust chain"))
            if not anchors:
                raise AnymailWebhookTransientError(
                    f"Scaleway webhook: the trust chain at {url} holds no PEM certificate. "
                    "The ESP will retry; or set ANYMAIL SCALEWAY_SNS_TRUST_CHAIN.",
                    esp_name="Scaleway",
                )
            self.chain_cache.put(url, anchors)
        return anchors

    def certificate_problem(
        self, certificate: Certificate, region: str, now: datetime
    ) -> str | None:
        from cryptography.exceptions import InvalidSignature

        for anchor in self.chain(region):
            if not anchor.not_valid_before_utc <= now <= anchor.not_valid_after_utc:
                continue
            try:
                certificate.verify_directly_issued_by(anchor)
            except (InvalidSignature, ValueError, TypeError):
                continue
            return None
        return "it is not issued by Scaleway's trust chain"


class TrustChainCache:
    """Downloaded trust chains by URL; thread-safe. Only chains that parsed are kept."""

    def __init__(self) -> None:
        self._chains: dict[str, list[Certificate]] = {}
        self._lock = threading.Lock()

    def get(self, url: str) -> list[Certificate] | None:
        with self._lock:
            return self._chains.get(url)

    def put(self, url: str, chain: list[Certificate]) -> None:
        with self._lock:
            self._chains[url] = list(chain)

    def clear(self) -> None:
        with self._lock:
            self._chains.clear()


#: The process-wide downloaded chains (a failed download is not kept).
DEFAULT_TRUST_CHAINS: Final = TrustChainCache()


def parse_certificates(pem: bytes | str) -> list[Certificate]:
    """The PEM certificates in ``pem`` (an empty list if there are none or one is broken)."""
    from cryptography import x509

    try:
        data = pem.encode("ascii") if isinstance(pem, str) else pem
        return x509.load_pem_x509_certificates(data)
    except (ValueError, TypeError, UnicodeEncodeError):
        return []


class CertificateCache:
    """Parsed certificates by URL, least recently used dropped first; thread-safe.

    Only certificates that were fetched and parsed are kept: a failure is retried
    on the next message.
    """

    def __init__(self, max_entries: int = CERT_CACHE_SIZE) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, Certificate] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, url: str) -> Certificate | None:
        with self._lock:
            certificate = self._entries.get(url)
            if certificate is not None:
                self._entries.move_to_end(url)
            return certificate

    def put(self, url: str, certificate: Certificate) -> None:
        with self._lock:
            self._entries[url] = certificate
            self._entries.move_to_end(url)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


#: The process-wide cache (webhook views are built anew for every request).
DEFAULT_CERT_CACHE: Final = CertificateCache()


def sns_get(url: str) -> requests.Response:
    """GET a URL already checked as the SNS service's: TLS verified, no redirects,
    streamed (the caller bounds what it reads), within CERT_FETCH_TIMEOUT."""
    return requests.get(
        url,
        timeout=CERT_FETCH_TIMEOUT,
        allow_redirects=False,
        stream=True,
        verify=True,
        headers={"User-Agent": f"django-anymail/{__version__}"},
    )


def fetch_certificate(url: str, what: str = "SNS signing certificate") -> bytes:
    """GET an (already validated) certificate URL: TLS verified, no redirects, bounded.

    Raises :exc:`AnymailWebhookTransientError` on any failure (``what`` names the file).
    """
    try:
        with sns_get(url) as response:
            if response.status_code != 200:
                raise AnymailWebhookTransientError(
                    f"Could not fetch the {what} {url}: HTTP {response.status_code}. "
                    "The ESP will retry."
                )
            body = b""
            for chunk in response.iter_content(chunk_size=8192):
                body += chunk
                if len(body) > CERT_MAX_SIZE:
                    raise AnymailWebhookTransientError(
                        f"The {what} {url} is larger than {CERT_MAX_SIZE} bytes."
                    )
            return body
    except requests.RequestException as err:
        raise AnymailWebhookTransientError(
            f"Could not fetch the {what} {url}: {type(err).__name__}. The ESP will retry."
        ) from err


def load_certificate(pem: bytes, url: str, esp_name: str) -> Certificate:
    from cryptography import x509

    try:
        return x509.load_pem_x509_certificate(pem)
    except (ValueError, TypeError):
        raise AnymailWebhookTransientError(
            f"{esp_name} webhook: {url} did not return a PEM certificate. The ESP will retry.",
            esp_name=esp_name,
        ) from None
