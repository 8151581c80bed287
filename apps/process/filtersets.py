"""Filters for pipeline and version lists, shared by the pages and the REST API."""

import django_filters

from apps.process.models import Pipeline, PipelineVersion


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
