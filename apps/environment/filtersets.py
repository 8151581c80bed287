"""Filters for agent, node group and registration token lists, shared by the pages and the REST API.

The status filter is computed from the last heartbeat, so it is right even before the offline sweep runs.
"""

import django_filters
from django.db.models import Q
from django.utils import timezone

from apps.environment.choices import AgentStatus, EnvironmentType
from apps.environment.models import Agent, NodeGroup, RegistrationToken, agent_offline_after


def agent_status_condition(status: str, now) -> Q:
    cutoff = now - agent_offline_after()
    if status == AgentStatus.DISABLED:
        return Q(enabled=False)
    if status == AgentStatus.ONLINE:
        return Q(enabled=True, last_heartbeat_at__gte=cutoff)
    return Q(enabled=True) & (Q(last_heartbeat_at__isnull=True) | Q(last_heartbeat_at__lt=cutoff))


class AgentFilterSet(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    status = django_filters.ChoiceFilter(choices=AgentStatus.choices, method="filter_status")
    label = django_filters.CharFilter(method="filter_label", label="Label")
    enabled = django_filters.BooleanFilter()
    shared = django_filters.BooleanFilter(field_name="project", lookup_expr="isnull", label="Shared")

    class Meta:
        model = Agent
        fields = ["name", "status", "label", "enabled", "shared"]

    def filter_status(self, queryset, name, value):
        return queryset.filter(agent_status_condition(value, timezone.now()))

    def filter_label(self, queryset, name, value):
        """Agents having every label given (separated by commas); matched in Python so any database works."""
        wanted = {label.strip() for label in value.split(",") if label.strip()}
        if not wanted:
            return queryset
        matching = [pk for pk, labels in queryset.values_list("pk", "labels") if wanted <= set(labels or [])]
        return queryset.filter(pk__in=matching)


class NodeGroupFilterSet(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    env_type = django_filters.ChoiceFilter(choices=EnvironmentType.choices)

    class Meta:
        model = NodeGroup
        fields = ["name", "env_type"]


class RegistrationTokenFilterSet(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(
        choices=[("active", "Active"), ("used", "Used"), ("expired", "Expired")], method="filter_state"
    )

    class Meta:
        model = RegistrationToken
        fields = ["state"]

    def filter_state(self, queryset, name, value):
        now = timezone.now()
        if value == "used":
            return queryset.filter(used_at__isnull=False)
        if value == "expired":
            return queryset.filter(used_at__isnull=True, expires_at__lte=now)
        return queryset.filter(used_at__isnull=True, expires_at__gt=now)
