"""The feature table (anymail._features): consistent, and the one list everything reads."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from anymail import _feature_matrix, checks
from anymail._features import ANYMAIL_MESSAGE_ATTRIBUTES, FEATURES, SEND_DEFAULTS_KEYS
from anymail.backends import base
from anymail.backends.base import BasePayload, Capabilities
from anymail.backends.test import EmailBackend as AnymailTestBackend
from anymail.backends.test import TestPayload as RecordingPayload
from anymail.message import AnymailMessage, AnymailMessageMixin

CAPABILITY_FIELDS = {field.name for field in dataclasses.fields(Capabilities)}


def test_every_row_names_real_capabilities_and_hooks() -> None:
    for feature in FEATURES:
        assert feature.capability is None or feature.capability in CAPABILITY_FIELDS
        assert all(capability in CAPABILITY_FIELDS for _label, capability in feature.matrix)
        assert callable(getattr(BasePayload, feature.hook)), feature.hook


def test_the_pipeline_checks_message_test_backend_and_matrix_read_the_table() -> None:
    names = tuple(feature.name for feature in FEATURES)
    assert names == base.FEATURE_ORDER
    assert checks.SEND_DEFAULTS_KEYS is SEND_DEFAULTS_KEYS
    assert AnymailMessageMixin.anymail_attributes is ANYMAIL_MESSAGE_ATTRIBUTES
    for feature in FEATURES:  # the test backend records every feature
        assert getattr(RecordingPayload, feature.hook) is not getattr(BasePayload, feature.hook)
    shown = {capability for _label, capability in _feature_matrix.ROWS if capability}
    assert shown == {capability for feature in FEATURES for _label, capability in feature.matrix}


LIST_DEFAULT: dict[str, Any] = {
    "to": (["d@example.com"], ["m@example.com"]),
    "cc": (["d@example.com"], ["m@example.com"]),
    "bcc": (["d@example.com"], ["m@example.com"]),
    "reply_to": (["d@example.com"], ["m@example.com"]),
}
DICT_DEFAULT: dict[str, Any] = {
    "metadata": ({"d": 1}, {"m": 2}),
    "merge_global_data": ({"d": 1}, {"m": 2}),
    "merge_data": ({"d@example.com": {"d": 1}}, {"m@example.com": {"m": 2}}),
    "merge_metadata": ({"d@example.com": {"d": 1}}, {"m@example.com": {"m": 2}}),
}


@pytest.mark.parametrize(
    "feature",
    [f for f in FEATURES if f.merge in ("list", "dict") and f.name in LIST_DEFAULT | DICT_DEFAULT],
    ids=lambda f: f.name,
)
def test_send_defaults_merge_by_each_rows_rule(feature: Any) -> None:
    default, own = (LIST_DEFAULT | DICT_DEFAULT)[feature.name]
    message = AnymailMessage(**{"to": ["m@example.com", "d@example.com"], feature.name: own})
    backend = AnymailTestBackend(send_defaults={feature.name: default})
    backend.send_messages([message])
    sent = message.anymail_send_params[feature.name]
    if feature.merge == "list":
        assert sent[-1] == "m@example.com" and "d@example.com" in sent
    else:
        assert sent == {**default, **own}
