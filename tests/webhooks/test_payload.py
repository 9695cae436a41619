"""The typed payload accessors (anymail.webhooks._payload): every wrong input is one
AnymailWebhookPayloadError naming the field, never its value."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from anymail.exceptions import AnymailWebhookPayloadError, AnymailWebhookValidationFailure
from anymail.webhooks._payload import (
    MAX_JSON_DEPTH,
    MAX_TEXT_LENGTH,
    JsonObject,
    finite_number,
    json_object,
    json_objects,
    parse_json,
)

ITEM = JsonObject(
    {
        "name": "delivered",
        "none": None,
        "count": 3,
        "ratio": 0.5,
        "flag": True,
        "mail": {"source": "from@example.com", "to": ["a@example.com", "b@example.com"]},
        "records": [{"id": "r1"}, {"id": "r2"}],
        "mixed": [1, "two", None],
        "epoch": 1764979200,
        "epoch_text": "1764979200.25",
        "iso": "2025-12-06T00:00:00.123Z",
        "iso_offset": "2025-12-06T01:00:00+01:00",
        "iso_naive": "2025-12-06 00:00:00",
        "inner": '{"Type": "Notification", "deep": [1, [2]]}',
    },
    "body[0]",
)


def problem(call: Any) -> str:
    with pytest.raises(AnymailWebhookPayloadError) as excinfo:
        call()
    return str(excinfo.value)


def test_payload_error_is_a_validation_failure() -> None:
    # The view answers 400 for every validation failure: a payload error is one.
    assert issubclass(AnymailWebhookPayloadError, AnymailWebhookValidationFailure)


def test_accessors_return_typed_values() -> None:
    assert ITEM.text("name") == "delivered"
    assert ITEM.integer("count") == 3
    assert ITEM.number("ratio") == 0.5 and ITEM.number("count") == 3.0
    assert ITEM.boolean("flag") is True
    mail = ITEM.object("mail")
    assert (mail.path, mail.text("source")) == ("body[0].mail", "from@example.com")
    assert mail.texts("to") == ["a@example.com", "b@example.com"]
    assert [record.text("id") for record in ITEM.objects("records")] == ["r1", "r2"]
    assert ITEM.objects("records")[1].path == "body[0].records[1]"
    assert ITEM.array("mixed") == [1, "two", None]
    assert ITEM.raw("mail") == {
        "source": "from@example.com",
        "to": ["a@example.com", "b@example.com"],
    }
    assert ITEM.json("inner") == {"Type": "Notification", "deep": [1, [2]]}
    assert "name" in ITEM and "missing" not in ITEM


def test_timestamps_are_aware() -> None:
    assert ITEM.epoch("epoch") == datetime(2025, 12, 6, tzinfo=UTC)
    assert ITEM.epoch("epoch_text") == datetime(2025, 12, 6, 0, 0, 0, 250000, tzinfo=UTC)
    assert ITEM.iso_datetime("iso") == datetime(2025, 12, 6, 0, 0, 0, 123000, tzinfo=UTC)
    offset = ITEM.iso_datetime("iso_offset")
    assert offset.utcoffset() == timedelta(hours=1) and offset == datetime(2025, 12, 6, tzinfo=UTC)
    assert ITEM.iso_datetime("iso_naive").tzinfo is UTC


def test_defaults_for_absent_or_null_fields() -> None:
    sentinel = object()
    for key in ("missing", "none"):
        assert ITEM.text(key, None) is None
        assert ITEM.integer(key, sentinel) is sentinel
        assert ITEM.object(key, None) is None
        assert ITEM.objects(key, []) == []
        assert ITEM.texts(key, []) == []
        assert ITEM.epoch(key, None) is None
        assert ITEM.raw(key, "x") == "x"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: ITEM.text("missing"), "body[0].missing is missing."),
        (lambda: ITEM.text("none"), "body[0].none is null."),
        (lambda: ITEM.text("count"), "body[0].count should be text, not a number."),
        (lambda: ITEM.text("mail", None), "body[0].mail should be text, not an object."),
        (lambda: ITEM.integer("ratio"), "body[0].ratio should be a whole number, not a number."),
        (lambda: ITEM.integer("flag"), "body[0].flag should be a whole number, not a boolean."),
        (lambda: ITEM.number("name"), "body[0].name should be a number, not text."),
        (lambda: ITEM.boolean("count"), "body[0].count should be true or false, not a number."),
        (lambda: ITEM.object("records"), "body[0].records should be an object, not a list."),
        (lambda: ITEM.objects("mail"), "body[0].mail should be a list, not an object."),
        (lambda: ITEM.objects("mixed"), "body[0].mixed[0] should be an object, not a number."),
        (lambda: ITEM.texts("mixed"), "body[0].mixed[0] should be text, not a number."),
        (lambda: ITEM.array("name"), "body[0].name should be a list, not text."),
        (lambda: ITEM.json("name"), "body[0].name is not valid JSON (line 1, column 1)."),
        (lambda: ITEM.epoch("name"), "body[0].name should be a Unix time, not text."),
        (lambda: ITEM.epoch("flag"), "body[0].flag should be a Unix time, not a boolean."),
        (lambda: ITEM.iso_datetime("epoch"), "body[0].epoch should be text, not a number."),
        (lambda: ITEM.iso_datetime("name"), "body[0].name should be an ISO 8601 date and time."),
    ],
)
def test_wrong_fields_say_which_and_why(call: Any, message: str) -> None:
    assert problem(call) == message


@pytest.mark.parametrize(
    ("value", "accessor", "message"),
    [
        ("x" * (MAX_TEXT_LENGTH + 1), "text", f"is longer than {MAX_TEXT_LENGTH} characters."),
        ("ok\ud800", "text", "is not valid Unicode (it has a lone surrogate)."),
        (1e400, "number", "should be a finite number."),
        (10**30, "epoch", "is not a Unix time in a usable range."),
        ("2025-13-45T99:00:00Z", "iso_datetime", "should be an ISO 8601 date and time."),
        ("2025-12-06T00:00:00Z; drop", "iso_datetime", "should be an ISO 8601 date and time."),
    ],
    ids=["long", "surrogate", "inf", "epoch-range", "iso-range", "iso-junk"],
)
def test_hostile_values(value: Any, accessor: str, message: str) -> None:
    item = JsonObject({"t": value}, "b")
    assert problem(lambda: getattr(item, accessor)("t")) == f"b.t {message}"


def test_text_length_limit_is_per_field() -> None:
    long = JsonObject({"raw": "x" * (MAX_TEXT_LENGTH + 1)})
    assert len(long.text("raw", max_length=None)) == MAX_TEXT_LENGTH + 1
    assert problem(lambda: long.text("raw", max_length=10)) == (
        "body.raw is longer than 10 characters."
    )


def test_messages_never_quote_values() -> None:
    secret = "s3cr3t-value-from-the-esp"
    item = JsonObject({"a": secret, "b": [secret], "c": {"d": secret}})
    for call in (
        lambda: item.integer("a"),
        lambda: item.object("b"),
        lambda: item.texts("c"),
        lambda: item.epoch("a"),
        lambda: item.iso_datetime("a"),
        lambda: item.json("a"),
    ):
        assert secret not in problem(call)


def test_parse_json() -> None:
    assert parse_json(b'{"a": [1, "\\u00e9"]}') == {"a": [1, "é"]}
    assert parse_json('{"a": 1}') == {"a": 1}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"\xff{}", "body is not valid UTF-8 (at byte 0)."),
        ('{"a": "é"}'.encode("latin-1"), "body is not valid UTF-8 (at byte 7)."),
        (b'{"a": 1', "body is not valid JSON (line 1, column 8)."),
        (b"", "body is not valid JSON (line 1, column 1)."),
        (b'{"a": NaN}', "body is not valid JSON."),
        (b"[Infinity]", "body is not valid JSON."),
        (b"9" * 5000, "body is not valid JSON."),
        (
            b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1),
            "body is nested more than 64 levels deep.",
        ),
        (b"[" * 200_000 + b"]" * 200_000, "body is nested more than 64 levels deep."),
        (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "body is nested more than 64 levels deep."),
    ],
    ids=[
        "bad-utf8",
        "latin1",
        "truncated",
        "empty",
        "nan",
        "infinity",
        "huge-int",
        "depth+1",
        "deep-lists",
        "deep-objects",
    ],
)
def test_parse_json_refuses(body: bytes, message: str) -> None:
    assert problem(lambda: parse_json(body)) == message


def test_depth_limit_is_inclusive() -> None:
    at_limit = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    assert parse_json(at_limit) is not None


def test_nested_json_field_gets_the_same_limits() -> None:
    item = JsonObject({"Message": "[" * 100 + "]" * 100}, "sns")
    assert (
        problem(lambda: item.json("Message")) == "sns.Message is nested more than 64 levels deep."
    )


def test_top_level_shapes() -> None:
    assert json_object({"a": 1}).path == "body"
    assert [o.path for o in json_objects([{}, {}], "events")] == ["events[0]", "events[1]"]
    assert problem(lambda: json_object([])) == "body should be an object, not a list."
    assert problem(lambda: json_objects({})) == "body should be a list, not an object."
    assert problem(lambda: json_objects([{}, "x"])) == "body[1] should be an object, not text."


def test_form_fields_read_the_same_way(rf: Any) -> None:
    # Django's QueryDict is a Mapping of str -> last value.
    request = rf.post("/", {"event": "open", "mandrill_events": json.dumps([{"ts": 1}])})
    form = JsonObject(request.POST, "form")
    assert form.text("event") == "open"
    assert json_objects(form.json("mandrill_events"), "form.mandrill_events")[0].integer("ts") == 1
    assert problem(lambda: form.integer("event")) == (
        "form.event should be a whole number, not text."
    )


def test_iso_timezone_kept() -> None:
    value = JsonObject({"t": "2025-12-06T00:00:00-0500"}).iso_datetime("t")
    assert value.utcoffset() == timezone(timedelta(hours=-5)).utcoffset(None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5.2", 5.2),
        (" -1 \n", -1.0),
        (3, 3.0),
        ("1e999", None),
        ("nan", None),
        ("-inf", None),
        ("", None),
        (None, None),
        ("junk", None),
        (True, None),
    ],
)
def test_finite_number(value: object, expected: float | None) -> None:
    # For advisory fields (spam scores): junk is no score, never an error.
    assert finite_number(value) == expected
