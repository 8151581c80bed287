from django.apps import AppConfig


class TicketConfig(AppConfig):
    name = "apps.ticket"
    label = "ticket"
    verbose_name = "Credentials"

    def ready(self):
        from apps.process.services.jobs import SECRET_PROVIDERS
        from apps.ticket import checks  # noqa: F401  (registers the key check)
        from apps.ticket.services import job_secrets

        if job_secrets not in SECRET_PROVIDERS:
            SECRET_PROVIDERS.append(job_secrets)
