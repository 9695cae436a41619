"""Postal's tracking webhook and inbound HTTP endpoint (JSON, raw message), RSA-signed
(SHA-256 and SHA-1 headers)."""

from anymail._testing_postal import postal_webhook_request, webhook_key
from anymail.webhooks._signers import RsaTestSigner

from ..registry import inbound_case, signed_by, webhook_case

TRACKING = webhook_case(
    "postal",
    "Postal",
    "tracking_message_bounced.json",
    event_count=1,
    settings={"POSTAL_WEBHOOK_KEY": webhook_key()},
    fuzz_fixtures="tracking*.json",
    **signed_by(postal_webhook_request, {"signer": RsaTestSigner()}),  # no signed time
)
CASES = [
    TRACKING,
    inbound_case(TRACKING, "inbound_raw_message.json", fuzz_fixtures="inbound*.json"),
]
