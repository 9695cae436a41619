"""Address parsing and formatting (anymail.addresses)."""

from __future__ import annotations

import pytest
from django.utils.translation import gettext_lazy

from anymail.addresses import (
    EmailAddress,
    idna_encode_domain,
    parse_address_list,
    parse_single_address,
)
from anymail.exceptions import AnymailInvalidAddress


def parsed(value: object) -> list[tuple[str, str, str]]:
    return [(a.display_name, a.username, a.domain) for a in parse_address_list(value)]


def test_simple_and_display_name_addresses() -> None:
    assert parsed(["to@example.com", "Recipient Name <r@example.com>"]) == [
        ("", "to", "example.com"),
        ("Recipient Name", "r", "example.com"),
    ]


def test_one_string_may_hold_several_addresses() -> None:
    assert parsed("a@example.com, B <b@example.com>") == [
        ("", "a", "example.com"),
        ("B", "b", "example.com"),
    ]


def test_quoted_display_name_with_comma() -> None:
    (address,) = parse_address_list(['"Widgets, Inc." <widgets@example.com>'])
    assert address.display_name == "Widgets, Inc."
    assert address.address == '"Widgets, Inc." <widgets@example.com>'
    assert address.addr_spec == "widgets@example.com"
    assert str(address) == address.address


def test_obsolete_period_in_display_name_is_tolerated() -> None:
    (address,) = parse_address_list("J. Smith <j@example.com>")
    assert address.display_name == "J. Smith"
    assert address.address == '"J. Smith" <j@example.com>'


def test_misquoted_display_name_is_invalid_with_a_hint() -> None:
    with pytest.raises(AnymailInvalidAddress) as excinfo:
        parse_address_list(["Widgets, Inc. <widgets@example.com>"], "from_email")
    assert str(excinfo.value) == (
        "Invalid email address 'Widgets' parsed from 'Widgets, Inc. <widgets@example.com>'. "
        "If a display name contains a comma or parentheses, put it in double quotes: "
        "'\"Widgets, Inc.\" <widgets@example.com>'. (in from_email)"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no-at-sign", "Invalid email address 'no-at-sign'."),
        ("a@b@example.com", "Invalid email address 'a@b@example.com'."),
        ("@example.com", "Invalid email address '@example.com'."),
        ("user@", "Invalid email address 'user@'."),
        ("<>", "Invalid email address '<>'."),
        (
            "Name <a@example.com> trailing",
            "Invalid email address 'a@example.com' parsed from 'Name <a@example.com> trailing'.",
        ),
    ],
)
def test_malformed_addresses(text: str, message: str) -> None:
    with pytest.raises(AnymailInvalidAddress) as excinfo:
        parse_address_list([text])
    assert str(excinfo.value) == message


@pytest.mark.parametrize(
    "text",
    [
        "a@example.com\r\nBcc: victim@example.com",
        "A\n<a@example.com>",
        # The other line ends str.splitlines() knows: VT, FF, FS, GS, RS, NEL, LS, PS.
        *(f'"A{char}B" <a@example.com>' for char in "\v\f\x1c\x1d\x1e\x85\u2028\u2029"),
    ],
)
def test_line_breaks_are_refused(text: str) -> None:
    with pytest.raises(AnymailInvalidAddress, match="line breaks are not allowed"):
        parse_address_list([text])


def test_invalid_address_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_address_list("nope")


def test_empty_items_are_skipped() -> None:
    # As Django skips them (EmailMessage.recipients() leaves out "").
    assert parse_address_list(None) == []
    assert parse_address_list(["", None, "a@example.com"]) == [EmailAddress("", "a", "example.com")]


@pytest.mark.parametrize("blank", [" ", "\t", " \u00a0 "])
def test_blank_items_are_invalid(blank: str) -> None:
    # Django counts a blank string as a recipient: skipping it would send to nobody.
    with pytest.raises(AnymailInvalidAddress, match=r"in to: it is blank"):
        parse_address_list(["a@example.com", blank], "to")
    with pytest.raises(AnymailInvalidAddress, match="it is blank"):
        parse_address_list(blank)


def test_email_address_objects_pass_through() -> None:
    address = EmailAddress("Name", "a", "example.com")
    assert parse_address_list(address) == [address]
    assert parse_address_list([address, "b@example.com"])[0] is address


def test_lazy_strings_are_single_addresses() -> None:
    assert parsed(gettext_lazy("Lazy Name <lazy@example.com>")) == [
        ("Lazy Name", "lazy", "example.com")
    ]
    assert parsed([gettext_lazy("lazy@example.com")]) == [("", "lazy", "example.com")]


def test_parse_single_address() -> None:
    assert parse_single_address("Name <a@example.com>") == EmailAddress("Name", "a", "example.com")
    with pytest.raises(AnymailInvalidAddress) as excinfo:
        parse_single_address("a@example.com, b@example.com", "envelope_sender")
    assert str(excinfo.value) == (
        "Expected a single email address in envelope_sender, found 2: "
        "'a@example.com, b@example.com'."
    )
    with pytest.raises(AnymailInvalidAddress, match="found 0"):
        parse_single_address("")


# --- IDNA and EAI -------------------------------------------------------------


def test_non_ascii_domain_uses_idna2008_with_uts46_mapping() -> None:
    assert parse_address_list("user@exämple.com")[0].domain == "xn--exmple-cua.com"
    # UTS #46 maps uppercase before encoding:
    assert parse_address_list("user@EXÄMPLE.com")[0].addr_spec == "user@xn--exmple-cua.com"
    # IDNA 2008 keeps ß (IDNA 2003, Python's "idna" codec, would turn it into "ss"):
    assert parse_address_list("user@faß.de")[0].domain == "xn--fa-hia.de"


def test_ascii_domain_is_left_alone() -> None:
    assert idna_encode_domain("Example.COM") == "Example.COM"


def test_domain_invalid_under_idna2008_is_invalid_address() -> None:
    # U+2603 SNOWMAN was allowed by IDNA 2003 but is disallowed by IDNA 2008.
    with pytest.raises(AnymailInvalidAddress) as excinfo:
        parse_address_list("user@☃.net")
    message = str(excinfo.value)
    assert message.startswith("Invalid email address domain '☃.net' parsed from 'user@☃.net': ")
    assert message.endswith("Check the address for typos.")


def test_eai_detection() -> None:
    (eai,) = parse_address_list("Jörg <jörg@example.com>")
    assert eai.is_eai is True
    assert eai.username == "jörg"
    assert eai.addr_spec == "jörg@example.com"
    (plain,) = parse_address_list("Jörg <joerg@exämple.com>")
    assert plain.is_eai is False  # non-ASCII display name and domain are not EAI


def test_non_ascii_display_name_formatting() -> None:
    address = EmailAddress("Jörg Müller", "j", "example.com")
    assert address.address == "Jörg Müller <j@example.com>"
    assert address.format(use_rfc2047=True) == "=?utf-8?b?SsO2cmcgTcO8bGxlcg==?= <j@example.com>"
    assert EmailAddress("", "j", "example.com").format(use_rfc2047=True) == "j@example.com"


def test_local_part_that_needs_quoting() -> None:
    address = EmailAddress("", "first last", "example.com")
    assert address.addr_spec == '"first last"@example.com'


# The fast path for common address shapes must agree exactly with the full parser.
FAST_PATH_SAMPLES = [
    "user@example.com",
    "first.last+tag@mail.example.co.uk",
    "Plain Name <user@example.com>",
    "Name<user@example.com>",
    "A B C <a.b-c@sub-domain.example.org>",
    "o'brien@example.com",
    "Jo_Smith! <jo@example.com>",
    "x@a-b.example",
]
NOT_FAST_PATH = [
    '"Smith, Jo" <jo@example.com>',
    "J. Smith <j@example.com>",
    "José <jose@example.com>",
    "user@exämple.com",
    "Two  Spaces <two@example.com>",
    "a..b@example.com",
    "user@-example.com",
    "a@b.com, c@d.com",
    "user@example.com (comment)",
    "user@localhost",
]


@pytest.mark.parametrize("text", FAST_PATH_SAMPLES)
def test_fast_path_matches_full_parser(text: str) -> None:
    from anymail.addresses import _parse_full, _parse_simple

    fast = _parse_simple(text)
    assert fast is not None
    assert fast == _parse_full(text)


@pytest.mark.parametrize("text", NOT_FAST_PATH)
def test_unusual_addresses_take_the_full_parser(text: str) -> None:
    from anymail.addresses import _parse_simple

    assert _parse_simple(text) is None


def test_rfc2047_format_of_a_long_name_stays_on_one_line() -> None:
    from email.header import decode_header, make_header

    name = "Ünïcödé " * 12 + "Name, Inc."
    formatted = EmailAddress(name, "user", "example.com").format(use_rfc2047=True)
    assert "\n" not in formatted and "\r" not in formatted
    encoded_name, addr = formatted.rsplit(" <", 1)
    assert addr == "user@example.com>"
    assert str(make_header(decode_header(encoded_name))) == name
