"""Pinned SNS signing certificates: ``<ESP>_SNS_SIGNING_CERTIFICATES``.

An operator may pin certificates by URL (:func:`certificate_cache`): a pinned URL
is never fetched, and every other check still runs on its certificate. It is how
an app trusts ``anymail sandbox``'s signing certificate from another process.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Final

from ..conf import Setting, SettingType, get_setting, invalid_setting
from ..exceptions import AnymailImproperlyConfigured, AnymailImproperlyInstalled
from ._sns_certs import DEFAULT_CERT_CACHE, CertificateCache, _plain_https_url, parse_certificates

if TYPE_CHECKING:
    from cryptography.x509 import Certificate

__all__ = ["SNS_SIGNING_CERTIFICATES", "PinnedCertificateCache", "certificate_cache"]

SNS_SIGNING_CERTIFICATES: Final = Setting(
    "sns_signing_certificates",
    SettingType("dict: SigningCertURL to PEM text"),
    "Pinned SNS signing certificates by SigningCertURL, used instead of downloading "
    "them (for development, e.g. anymail sandbox's).",
    default=None,
    option=False,
)


class PinnedCertificateCache(CertificateCache):
    """The certificates an operator pinned by URL, in front of the downloaded ones.

    A pinned URL always gives its pinned certificate (so it is never fetched, and
    a download can't replace it); any other URL is looked up in, and stored to,
    ``downloaded``.
    """

    def __init__(
        self, pinned: Mapping[str, Certificate], downloaded: CertificateCache = DEFAULT_CERT_CACHE
    ) -> None:
        super().__init__(max_entries=0)
        self.pinned = dict(pinned)
        self.downloaded = downloaded

    def get(self, url: str) -> Certificate | None:
        pinned = self.pinned.get(url)
        return pinned if pinned is not None else self.downloaded.get(url)

    def put(self, url: str, certificate: Certificate) -> None:
        if url not in self.pinned:
            self.downloaded.put(url, certificate)

    def clear(self) -> None:
        self.downloaded.clear()

    def __len__(self) -> int:
        return len(self.pinned) + len(self.downloaded)


def certificate_cache(esp_name: str) -> CertificateCache:
    """The certificate cache for ``esp_name``'s verifier: the process's, behind any pinned.

    Raises :exc:`AnymailImproperlyConfigured` when ``<ESP>_SNS_SIGNING_CERTIFICATES``
    is not a dict of https URLs to one PEM certificate each.
    """
    value = get_setting(SNS_SIGNING_CERTIFICATES, esp_name)
    if not value:
        return DEFAULT_CERT_CACHE
    if not isinstance(value, Mapping):
        raise invalid_setting(
            SNS_SIGNING_CERTIFICATES.name,
            esp_name,
            "expected a dict of SigningCertURL to the PEM text of its certificate.",
        )
    for url, pem in value.items():
        if not isinstance(url, str) or _plain_https_url(url)[0] is None:
            raise invalid_setting(
                SNS_SIGNING_CERTIFICATES.name,
                esp_name,
                f"the key {str(url)[:200]!r} is not an https SigningCertURL. Use the URL "
                "exactly as the SNS messages name it.",
            )
        if not isinstance(pem, str | bytes):
            raise _not_one_certificate(url, esp_name)
    try:
        import cryptography  # noqa: F401 (parses the certificates)
    except ImportError:
        extra = esp_name.lower().replace(" ", "-")
        raise AnymailImproperlyInstalled("cryptography", install_extra=extra) from None
    return PinnedCertificateCache(_pinned(tuple(sorted(value.items())), esp_name))


def _not_one_certificate(url: str, esp_name: str) -> AnymailImproperlyConfigured:
    return invalid_setting(
        SNS_SIGNING_CERTIFICATES.name,
        esp_name,
        f"the value for {url} is not the PEM text of one certificate. Paste the certificate "
        "as printed, from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----.",
    )


@lru_cache(maxsize=8)
def _pinned(items: tuple[tuple[str, str | bytes], ...], esp_name: str) -> Mapping[str, Certificate]:
    # Cached: views are built for every request, and the setting rarely changes.
    pinned: dict[str, Certificate] = {}
    for url, pem in items:
        certificates = parse_certificates(pem)
        if len(certificates) != 1:
            raise _not_one_certificate(url, esp_name)
        pinned[url] = certificates[0]
    return pinned
