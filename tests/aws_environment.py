"""The environment boto3 sees in the tests: dummy credentials, one region, and nothing
that could make it read other credentials or reach the network."""

from __future__ import annotations

import os

REGION = "us-east-1"

#: Dummy credentials and region, no shared AWS config files, and no probe of
#: the EC2 instance-metadata service: nothing may leave the machine.
AWS_TEST_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}

#: Environment that could make boto3 use other credentials, or fetch them over HTTP.
AWS_ENVIRONMENT_TO_CLEAR = (
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_RETRY_MODE",
    "AWS_MAX_ATTEMPTS",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SESV2",
)
