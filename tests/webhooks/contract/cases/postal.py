"""Postal's tracking webhook and inbound HTTP endpoint (JSON, raw message), RSA-signed
(SHA-256 and SHA-1 headers)."""

from functools import partial

from anymail._testing_postal import postal_webhook_request, webhook_key
from anymail.webhooks._signers import RsaTestSigner

from ..registry import inbound_case, webhook_case

TRACKING = webhook_case(
    "postal",
    "Postal",
    "tracking_message_bounced.json",
    event_count=1,
    request=postal_webhook_request,
    settings={"POSTAL_WEBHOOK_KEY": webhook_key()},
    forge=partial(postal_webhook_request, signer=RsaTestSigner()),
    fuzz_fixtures="tracking*.json",
)
CASES = [
    TRACKING,
    inbound_case(TRACKING, "inbound_raw_message.json", fuzz_fixtures="inbound*.json"),
]
