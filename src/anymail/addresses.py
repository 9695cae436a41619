"""Email address parsing and formatting: RFC 5322 syntax, IDNA domains, EAI detection.

Addresses are parsed with the standard library's modern header parser (the
one behind ``email.policy.default``), and anything it flags as invalid is an
:exc:`AnymailInvalidAddress`: a misquoted display name such as
``Widgets, Inc. <w@example.com>`` must not silently become two recipients.

Non-ASCII domains are converted to their ASCII ("xn--") form with IDNA 2008
and the UTS #46 mapping, which every ESP accepts. A non-ASCII *local part*
(EAI, RFC 6531) cannot be converted; :attr:`EmailAddress.is_eai` lets a
backend refuse it when its ESP cannot deliver such mail.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from email import errors as email_errors
from email.headerregistry import Address
from email.policy import default as default_policy
from functools import lru_cache
from typing import Any

import idna
from django.utils.encoding import force_str
from django.utils.functional import Promise

from .exceptions import AnymailInvalidAddress

# Parser defects that are harmless in practice (e.g. "J. Smith <j@x.com>" has an
# obsolete-syntax period in its display name); anything else means "invalid".
_TOLERATED_DEFECTS = (
    email_errors.ObsoleteHeaderDefect,
    email_errors.NonASCIILocalPartDefect,
)


@dataclass(frozen=True, slots=True)
class EmailAddress:
    """A single parsed email address.

    ``domain`` is always ASCII (IDNA-encoded when the input was not);
    ``username`` is the local part exactly as given (it may be non-ASCII: EAI).
    """

    display_name: str
    username: str
    domain: str

    @property
    def addr_spec(self) -> str:
        """The bare address, "user@example.com" (local part quoted if it must be)."""
        return Address(username=self.username, domain=self.domain).addr_spec

    @property
    def address(self) -> str:
        """The address with its display name, formatted for an email header.

        Display names that need it are quoted ('"Widgets, Inc." <w@example.com>');
        non-ASCII display names are left as Unicode text (ESPs' JSON APIs expect that).
        """
        return self.format()

    @property
    def is_eai(self) -> bool:
        """True if the local part is non-ASCII (needs SMTPUTF8 to deliver)."""
        return not self.username.isascii()

    def as_dict(self, email_key: str = "email", name_key: str = "name") -> dict[str, str]:
        """The JSON object most ESP APIs take: {"email": addr_spec, "name": display name}.

        The name is left out when there is none; it is the plain text (the ESP encodes it).
        """
        if self.display_name:
            return {email_key: self.addr_spec, name_key: self.display_name}
        return {email_key: self.addr_spec}

    def format(self, use_rfc2047: bool = False) -> str:
        """Format as a header value; with ``use_rfc2047``, encode a non-ASCII display name."""
        if not self.display_name:
            return self.addr_spec
        if use_rfc2047 and not self.display_name.isascii():
            from email.header import Header

            # Unfolded: encoded-words joined by spaces on one line (a folded
            # header's line breaks don't belong in an API field's value).
            encoded = Header(self.display_name, "utf-8").encode(linesep="")
            return f"{encoded} <{self.addr_spec}>"
        return str(Address(self.display_name, self.username, self.domain))

    def __str__(self) -> str:
        return self.address


def idna_encode_domain(domain: str, source: str = "") -> str:
    """The ASCII form of a domain (IDNA 2008 with UTS #46 mapping)."""
    if domain.isascii():
        return domain
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError as err:
        raise AnymailInvalidAddress(
            f"Invalid email address domain {domain!r}{_from(source)}: {err}. "
            "Check the address for typos."
        ) from None


def _from(source: str) -> str:
    return f" parsed from {source!r}" if source else ""


# The common shapes, "user@example.com" and "Plain Name <user@example.com>", with
# only ASCII atoms: these parse the same with this pattern as with the standard
# library's parser (tests check it), which is far slower. Anything else (quotes,
# dots or non-ASCII in the name, comments, groups, lists) takes the full parser.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_ADDR_SPEC = rf"(?P<username>{_ATEXT}(?:\.{_ATEXT})*)@(?P<domain>{_LABEL}(?:\.{_LABEL})+)"
_SIMPLE_ADDRESS = re.compile(
    rf"(?:{_ADDR_SPEC}|(?P<name>{_ATEXT}(?: {_ATEXT})*) ?<{_ADDR_SPEC.replace('?P<', '?P<a_')}>)"
)


def _parse_simple(text: str) -> tuple[EmailAddress, ...] | None:
    match = _SIMPLE_ADDRESS.fullmatch(text)
    if match is None:
        return None
    if match["name"] is None:
        return (EmailAddress("", match["username"], match["domain"]),)
    return (EmailAddress(match["name"], match["a_username"], match["a_domain"]),)


@lru_cache(maxsize=4096)
def _parse(text: str) -> tuple[EmailAddress, ...]:
    """Parse one header-style address list string (cached: senders repeat a lot)."""
    simple = _parse_simple(text)
    if simple is not None:
        return simple
    return _parse_full(text)


def contains_line_break(text: str) -> bool:
    """Whether ``text`` holds any line end ``str.splitlines()`` knows.

    That is CR and LF, and also VT, FF, FS, GS, RS, NEL, U+2028 and U+2029: some
    ESPs and mail libraries split header lines on those too, so any of them in a
    header-bound value could start a header of its own (header injection).
    """
    return "".join(text.splitlines()) != text


def _parse_full(text: str) -> tuple[EmailAddress, ...]:
    if contains_line_break(text):
        raise AnymailInvalidAddress(
            f"Invalid email address {text!r}: line breaks are not allowed in addresses."
        )
    try:
        header = default_policy.header_factory("To", text)
    except (email_errors.HeaderParseError, ValueError) as err:
        raise AnymailInvalidAddress(f"Invalid email address {text!r}: {err}.") from None
    except IndexError:  # the parser's own failure, e.g. on "user@": no useful detail
        raise AnymailInvalidAddress(f"Invalid email address {text!r}.") from None
    invalid = [d for d in header.defects if not isinstance(d, _TOLERATED_DEFECTS)]
    results = []
    for parsed in header.addresses:
        if not parsed.username or not parsed.domain or invalid:
            hint = ""
            if "," in text or "(" in text:
                hint = (
                    " If a display name contains a comma or parentheses, put it in "
                    "double quotes: '\"Widgets, Inc.\" <widgets@example.com>'."
                )
            shown = parsed.addr_spec if parsed.addr_spec not in ("", "@", "<>") else text
            source = f" parsed from {text!r}" if shown != text else ""
            raise AnymailInvalidAddress(f"Invalid email address {shown!r}{source}.{hint}")
        domain = idna_encode_domain(parsed.domain, text)
        results.append(EmailAddress(parsed.display_name, parsed.username, domain))
    if invalid:  # a defect that left no address behind, e.g. trailing junk
        raise AnymailInvalidAddress(f"Invalid email address {text!r}: {invalid[0]}.")
    return tuple(results)


def parse_address_list(address_list: Any, field: str | None = None) -> list[EmailAddress]:
    """Parse addresses into a list of :class:`EmailAddress`.

    ``address_list`` may be a single string (which may hold several
    comma-separated addresses), a lazy string, an :class:`EmailAddress`,
    or an iterable of any of those. Empty items are skipped (as Django skips
    them); an item of only whitespace is an :exc:`AnymailInvalidAddress`, like
    any other unparsable one. ``field`` names the message attribute for error
    messages ("to", "from_email" ...).
    """
    if address_list is None:
        return []
    if isinstance(address_list, EmailAddress):
        return [address_list]
    # A lazy string (gettext_lazy) is iterable, but is one string, not a list.
    if isinstance(address_list, str | Promise) or not isinstance(address_list, Iterable):
        address_list = [address_list]
    results: list[EmailAddress] = []
    for item in address_list:
        if isinstance(item, EmailAddress):
            results.append(item)
            continue
        if item is None:
            continue
        original = force_str(item)
        text = original.strip()
        if not text:
            if original:
                # Django counts it as a recipient: dropping it here would call
                # the ESP without the recipient the caller meant.
                where = f" in {field}" if field else ""
                raise AnymailInvalidAddress(
                    f"Invalid email address {original!r}{where}: it is blank. "
                    "Give an address, or remove the empty item."
                )
            continue
        try:
            results.extend(_parse(text))
        except AnymailInvalidAddress as err:
            if field:
                raise AnymailInvalidAddress(f"{err} (in {field})") from None
            raise
    return results


def parse_single_address(address: Any, field: str | None = None) -> EmailAddress:
    """Parse exactly one address; anything else is an :exc:`AnymailInvalidAddress`."""
    parsed = parse_address_list(address, field=field)
    where = f" in {field}" if field else ""
    if len(parsed) != 1:
        raise AnymailInvalidAddress(
            f"Expected a single email address{where}, found {len(parsed)}: {address!r}."
        )
    return parsed[0]
