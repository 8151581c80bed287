"""System check: the server does not start without a usable credential key ring."""

from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured


@register()
def ticket_key_ring_check(app_configs, **kwargs):
    from apps.ticket.crypto import key_ring

    try:
        key_ring()
    except ImproperlyConfigured as error:
        return [Error(str(error), hint="See docs/credentials.md (Keys).", id="ticket.E001")]
    return []
