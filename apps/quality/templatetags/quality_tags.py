"""Quality pieces of other pages: `{% build_gate_checks build %}` renders a build's Quality section
(every gate check of every attempt); `|indicator_text` writes one indicator as `metric op threshold`."""

from django import template

from apps.quality.views import build_checks_context

register = template.Library()


@register.inclusion_tag("quality/_build_checks.html")
def build_gate_checks(build) -> dict:
    return build_checks_context(build)


@register.filter
def indicator_text(indicator: dict) -> str:
    threshold = indicator.get("threshold")
    if isinstance(threshold, bool):
        threshold = "true" if threshold else "false"
    return f"{indicator.get('metric', '')} {indicator.get('operator', '')} {threshold}".strip()


@register.filter
def seen_value(indicator: dict) -> str:
    """The value a check saw for an indicator; `not reported` when the metric was missing."""
    if "value" not in indicator or indicator["value"] is None:
        return "not reported"
    value = indicator["value"]
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


RESULT_BADGES = {
    "passed": "status-succeeded",
    "failed": "status-failed",
    "blocked": "status-blocked",
    "overridden": "status-running",
    "timed_out": "status-timed_out",
}


@register.filter
def result_badge(result: str | None) -> str:
    """The badge class of a gate result (the build statuses' colours)."""
    return RESULT_BADGES.get(result or "", "status-skipped")
