"""The API third-party backends build on: names, types and the errors they see."""

from __future__ import annotations

import typing
from typing import Any

import pytest
from django.core.mail.message import BadHeaderError

from anymail import conf, utils
from anymail._feature_matrix import esp_backends
from anymail._features import FEATURES
from anymail.backends import base, base_requests
from anymail.backends.base import AnymailBaseBackend, BasePayload, SendParams
from anymail.backends.test import TestPayload as RecordingPayload
from anymail.exceptions import AnymailError, AnymailInvalidHeader
from anymail.message import AnymailMessage


@pytest.mark.parametrize("module", [base, base_requests, conf, utils], ids=lambda m: m.__name__)
def test_extender_modules_declare_their_public_names(module: Any) -> None:
    assert module.__all__
    for name in module.__all__:
        assert not name.startswith("_")
        assert hasattr(module, name), name


def test_the_names_extenders_import_stay_importable() -> None:
    assert {"AnymailBaseBackend", "BasePayload", "Capabilities"} <= set(base.__all__)
    assert {"AnymailRequestsBackend", "RequestsPayload"} <= set(base_requests.__all__)
    assert {
        "get_anymail_setting",
        "EmailAddress",
        "parse_address_list",
        "parse_single_address",
    } <= set(utils.__all__)


def test_each_backend_is_generic_in_its_payload_class() -> None:
    for backend in esp_backends():
        bases = [
            klass
            for klass in getattr(backend, "__orig_bases__", ())
            if isinstance(typing.get_origin(klass), type)
            and issubclass(typing.get_origin(klass), AnymailBaseBackend)
        ]
        assert bases, backend
        (payload_class,) = typing.get_args(bases[0])
        assert payload_class is backend.payload_class, backend


def test_payload_class_is_the_generic_argument_unless_the_class_sets_one() -> None:
    class Generic(AnymailBaseBackend[RecordingPayload]):
        esp_name = "Generic"

    class Subclass(Generic):  # not declared generic itself: its parent's payload
        pass

    class Explicit(AnymailBaseBackend[BasePayload]):
        payload_class = RecordingPayload

    assert Generic.payload_class is RecordingPayload
    assert Subclass.payload_class is RecordingPayload
    assert Explicit.payload_class is RecordingPayload
    assert AnymailBaseBackend.payload_class is BasePayload


def test_send_params_type_lists_every_feature() -> None:
    assert set(SendParams.__annotations__) == {feature.name for feature in FEATURES} | {
        "to_header",
        "cc_header",
    }


def test_unimplemented_backend_methods_raise_not_implemented_error() -> None:
    class Unfinished(AnymailBaseBackend[RecordingPayload]):
        esp_name = "Unfinished"
        payload_class = RecordingPayload  # (the test backend's: every hook implemented)

    with pytest.raises(NotImplementedError, match="Unfinished must implement post_to_esp"):
        Unfinished().send_messages([AnymailMessage(to=["to@example.com"])])
    with pytest.raises(NotImplementedError, match="must implement parse_recipient_status"):
        Unfinished().parse_recipient_status({}, None, AnymailMessage())


def test_a_declared_but_unimplemented_hook_is_not_implemented() -> None:
    class Forgetful(BasePayload):
        pass

    class ForgetfulBackend(AnymailBaseBackend[Forgetful]):
        esp_name = "Forgetful"
        payload_class = Forgetful

    with pytest.raises(NotImplementedError) as excinfo:
        ForgetfulBackend().send_messages([AnymailMessage(to=["to@example.com"])])
    assert isinstance(excinfo.value, AnymailError)


def test_invalid_header_is_also_djangos_bad_header_error() -> None:
    message = AnymailMessage(subject="Hi\r\nBcc: x@example.com", to=["to@example.com"])
    with pytest.raises(BadHeaderError) as excinfo:
        AnymailBaseBackend().build_message_payload(message, {})
    assert isinstance(excinfo.value, AnymailInvalidHeader)
    assert issubclass(AnymailInvalidHeader, ValueError)
