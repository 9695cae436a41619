"""The sandbox's own signing keys, for the ESPs that sign webhooks with a private key.

Postal (RSA), SendGrid (ECDSA), Amazon SNS and Scaleway's SNS (an RSA key and
its certificate; Scaleway's issued by a CA) sign with keys only they have: the
sandbox signs with key pairs of its own, and the app verifies with their public
halves, which :meth:`Sandbox.settings` gives (``POSTAL_WEBHOOK_KEY``,
``SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY``; for SNS,
``<ESP>_SNS_SIGNING_CERTIFICATES`` pins the certificate to the URL the sandbox's
messages name, so the app never downloads it, and ``SCALEWAY_SNS_TRUST_CHAIN``
is the sandbox's CA).
They are made when first needed, and can be kept in a file (``anymail sandbox
--keys FILE``), so that an app configured with them keeps working across
restarts. These are throwaway sandbox keys: nothing real is signed with them.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

if TYPE_CHECKING:
    from ..webhooks._signers import EcdsaTestSigner, RsaTestSigner, SnsTestSigner


def _pem(private_key: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    return private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def _load_key(pem: str) -> Any:
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key(pem.encode("ascii"), password=None)


def _load_certificate(pem: str) -> Any:
    from cryptography import x509

    return x509.load_pem_x509_certificate(pem.encode("ascii"))


def _load_sns(data: dict[str, str]) -> SnsTestSigner:
    from ..webhooks._signers import SnsTestSigner

    certificate = _load_certificate(data["certificate"])
    return SnsTestSigner(kept=(_load_key(data["key"]), certificate, data["cert_id"]))


def _sns_data(signer: SnsTestSigner) -> dict[str, str]:
    return {
        "key": _pem(signer.private_key),
        "certificate": signer.cert_pem.decode("ascii"),
        "cert_id": signer.cert_id,
    }


def certificate_pem(certificate: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


_T = TypeVar("_T")

#: How long the sandbox's certificates are valid: a kept keys file outlives restarts.
_VALIDITY_DAYS = 3650


class SandboxKeys:
    """The key pairs one sandbox signs with (thread-safe, made on first use)."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        #: Where the keys are kept (None: in memory only).
        self.path = Path(path) if path is not None else None
        self._lock = threading.Lock()
        self._postal: RsaTestSigner | None = None
        self._sendgrid: EcdsaTestSigner | None = None
        self._sns: SnsTestSigner | None = None
        self._scaleway: tuple[Any, SnsTestSigner] | None = None
        if self.path is not None and self.path.exists():
            self._load(json.loads(self.path.read_text(encoding="utf-8")))

    def _kept(self, name: str, make: Callable[[], _T]) -> _T:
        """The key pair ``name`` (the attribute ``_<name>``), made and saved on first use."""
        with self._lock:
            if getattr(self, f"_{name}") is None:
                setattr(self, f"_{name}", make())
                self._save()
            return cast(_T, getattr(self, f"_{name}"))

    @property
    def postal(self) -> RsaTestSigner:
        from ..webhooks._signers import RsaTestSigner

        return self._kept("postal", RsaTestSigner)

    @property
    def sendgrid(self) -> EcdsaTestSigner:
        from ..webhooks._signers import EcdsaTestSigner

        return self._kept("sendgrid", EcdsaTestSigner)

    @property
    def sns(self) -> SnsTestSigner:
        from ..webhooks._signers import SnsTestSigner

        def make() -> SnsTestSigner:
            return SnsTestSigner(valid_for=timedelta(days=_VALIDITY_DAYS))

        return self._kept("sns", make)

    @property
    def scaleway(self) -> tuple[Any, SnsTestSigner]:
        """Scaleway's SNS: (the sandbox's CA certificate, a signer whose certificate it issued)."""
        return self._kept("scaleway", self._new_scaleway)

    @staticmethod
    def _new_scaleway() -> tuple[Any, SnsTestSigner]:
        from cryptography.hazmat.primitives.asymmetric import rsa

        from ..webhooks._signers import SnsTestSigner, make_certificate
        from ..webhooks.signing import utc_now

        # The CA's key signs this one certificate, and is then dropped.
        ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        now = utc_now()
        ca = make_certificate(
            ca_key,
            "Anymail sandbox Scaleway SNS CA",
            now - timedelta(days=1),
            now + timedelta(days=_VALIDITY_DAYS + 1),
            is_ca=True,
        )
        signer = SnsTestSigner(
            name="sns.mnq.scaleway.com",
            valid_for=timedelta(days=_VALIDITY_DAYS),
            issuer=(ca, ca_key),
        )
        return ca, signer

    # -- a file, so that the app's configured public keys outlive a restart -------------
    def _save(self) -> None:
        if self.path is None:
            return
        data: dict[str, Any] = {
            name: _pem(signer.private_key)
            for name, signer in (("postal", self._postal), ("sendgrid", self._sendgrid))
            if signer is not None
        }
        if self._sns is not None:
            data["sns"] = _sns_data(self._sns)
        if self._scaleway is not None:
            ca, signer = self._scaleway
            data["scaleway"] = {**_sns_data(signer), "ca": certificate_pem(ca)}
        # Private keys, if only sandbox ones: readable by their owner alone.
        self.path.touch(mode=0o600, exist_ok=True)
        self.path.write_text(json.dumps(data, indent=2), encoding="utf-8")

    def _load(self, data: dict[str, Any]) -> None:
        from ..webhooks._signers import EcdsaTestSigner, RsaTestSigner

        if "postal" in data:
            self._postal = RsaTestSigner(private_key=_load_key(data["postal"]))
        if "sendgrid" in data:
            self._sendgrid = EcdsaTestSigner(private_key=_load_key(data["sendgrid"]))
        if "sns" in data:
            self._sns = _load_sns(data["sns"])
        if "scaleway" in data:
            scaleway = data["scaleway"]
            self._scaleway = (_load_certificate(scaleway["ca"]), _load_sns(scaleway))
