from django.apps import AppConfig
from django.core import checks


class AnymailBaseConfig(AppConfig):
    name = "anymail"
    verbose_name = "Anymail"
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        from .checks import (
            check_amazon_ses_webhooks,
            check_anymail_settings,
            check_scaleway_webhooks,
            check_webhook_secrets,
        )

        checks.register(check_anymail_settings)
        checks.register(check_webhook_secrets, checks.Tags.security)
        checks.register(check_amazon_ses_webhooks, checks.Tags.security)
        checks.register(check_scaleway_webhooks, checks.Tags.security)
