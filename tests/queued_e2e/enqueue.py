"""Queue the end-to-end test's messages: ``python -m tests.queued_e2e.enqueue COUNT``.

Half go to Resend (which takes an idempotency key), half to Postmark (which
doesn't); one more batch is queued inside a transaction that rolls back.
"""

import os
import sys

import django


def main(count: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.queued_e2e.settings")
    django.setup()
    from django.core.mail import get_connection
    from django.db import transaction

    from anymail.message import AnymailMessage

    if django.VERSION >= (6, 1):
        from django.core.mail import mailers

        resend = mailers["default"]
        postmark = mailers["postmark_queued"]
    else:
        resend = get_connection(
            "anymail.backends.queued.EmailBackend",
            delivery_backend="anymail.backends.resend.EmailBackend",
        )
        # Queued at once, inside the transaction below (same database: commits with it).
        postmark = get_connection(
            "anymail.backends.queued.EmailBackend",
            delivery_backend="anymail.backends.postmark.EmailBackend",
            enqueue_on_commit=False,
        )

    def message(esp: str, number: int) -> AnymailMessage:
        return AnymailMessage(
            subject=f"e2e {esp} {number}",
            body=f"Message {number}",
            from_email="from@example.com",
            to=[f"to{number}@example.com"],
            metadata={"number": str(number)},
        )

    half = count // 2
    for start in range(0, half, 100):
        numbers = range(start, min(start + 100, half))
        with transaction.atomic():
            # On commit (the default): queued when this block commits.
            assert resend.send_messages([message("resend", n) for n in numbers]) == len(numbers)
            assert postmark.send_messages([message("postmark", n) for n in numbers]) == len(numbers)

    try:
        with transaction.atomic():
            resend.send_messages([message("rolledback", n) for n in range(20)])
            raise RuntimeError("roll back")
    except RuntimeError:
        pass


if __name__ == "__main__":
    main(int(sys.argv[1]))
