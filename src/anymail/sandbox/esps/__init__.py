"""The ESP emulators, by ESP slug (the backend module and webhook URL prefix)."""

from __future__ import annotations

from ._base import ApiRequest, ApiResponse, Attachment, Emulator, EspError, Message
from .amazon_ses import AmazonSES
from .brevo import Brevo, Sendinblue
from .mailgun import Mailgun
from .mailjet import Mailjet
from .mandrill import Mandrill
from .postal import Postal
from .postmark import Postmark
from .resend import Resend
from .scaleway import Scaleway
from .sendgrid import SendGrid
from .sparkpost import SparkPost

__all__ = [
    "EMULATORS",
    "ApiRequest",
    "ApiResponse",
    "Attachment",
    "Emulator",
    "EspError",
    "Message",
]

#: Every ESP Anymail supports (Amazon SES through boto3's ``sesv2`` client).
EMULATORS: dict[str, type[Emulator]] = {
    cls.esp: cls
    for cls in (
        AmazonSES,
        Brevo,
        Mailgun,
        Mailjet,
        Mandrill,
        Postal,
        Postmark,
        Resend,
        Scaleway,
        SendGrid,
        Sendinblue,
        SparkPost,
    )
}
