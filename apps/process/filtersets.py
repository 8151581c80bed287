"""Filters for pipeline, version and build lists, shared by the pages and the REST API."""

import django_filters

from apps.core.filtersets import UtcIsoDateTimeFilter
from apps.process.choices import Status
from apps.process.models import Build, Pipeline, PipelineVersion
from apps.process.selectors_builds import BRANCH_PREFIX, BUILD_EVENTS


class PipelineFilterSet(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    slug = django_filters.CharFilter(lookup_expr="icontains")
    archived = django_filters.BooleanFilter(field_name="is_archived")

    class Meta:
        model = Pipeline
        fields = ["name", "slug", "archived"]


class PipelineVersionFilterSet(django_filters.FilterSet):
    created_by = django_filters.CharFilter(field_name="created_by__username", label="Author (username)")
    message = django_filters.CharFilter(lookup_expr="icontains")
    sha256 = django_filters.CharFilter(lookup_expr="startswith", label="sha256 prefix")

    class Meta:
        model = PipelineVersion
        fields = ["created_by", "message", "sha256"]


class BuildFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Status.choices)
    branch = django_filters.CharFilter(method="filter_branch", label="Branch (or a full refs/... ref)")
    event = django_filters.ChoiceFilter(
        field_name="trigger__event", choices=[(event, event) for event in BUILD_EVENTS], label="Trigger event"
    )
    actor = django_filters.CharFilter(field_name="created_by__username", label="Started by (username)")
    number = django_filters.NumberFilter()
    created_after = UtcIsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", label="Created at or after (ISO 8601)"
    )
    created_before = UtcIsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", label="Created before (ISO 8601)"
    )

    class Meta:
        model = Build
        fields = ["status", "branch", "event", "actor", "number", "created_after", "created_before"]

    def filter_branch(self, queryset, name, value):
        ref = value if value.startswith("refs/") else f"{BRANCH_PREFIX}{value}"
        return queryset.filter(trigger__ref=ref)
