"""Template filters of the environment pages."""

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def seconds_ago(moment, now=None) -> str:
    """`12 s ago`, `3 min ago`, `5 h ago`, `2 d ago`; `never` for no moment."""
    if moment is None:
        return "never"
    seconds = max(0, int(((now or timezone.now()) - moment).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"
