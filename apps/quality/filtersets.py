"""Filters for quality rules and gate checks, shared by the Quality pages and the REST API."""

import django_filters
from django.db.models import Q

from apps.quality.choices import ControlPoint, FailAction, GateResult
from apps.quality.models import GateCheck, QualityRule


class QualityRuleFilterSet(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    control_point = django_filters.ChoiceFilter(choices=ControlPoint.choices, empty_label="Any control point")
    action = django_filters.ChoiceFilter(choices=FailAction.choices, empty_label="Any action")
    enabled = django_filters.BooleanFilter()
    pipeline = django_filters.CharFilter(
        method="filter_pipeline",
        label="Applies to this pipeline (slug; rules naming no pipeline apply to all)",
    )

    class Meta:
        model = QualityRule
        fields = ["name", "control_point", "action", "enabled", "pipeline"]

    def filter_pipeline(self, queryset, name, value):
        applying = Q(pipelines__slug=value) | Q(pipelines__isnull=True)
        return queryset.filter(pk__in=queryset.filter(applying).values("pk"))


class GateCheckFilterSet(django_filters.FilterSet):
    result = django_filters.ChoiceFilter(choices=GateResult.choices, empty_label="Any result")
    control_point = django_filters.ChoiceFilter(choices=ControlPoint.choices, empty_label="Any control point")
    attempt = django_filters.NumberFilter(field_name="build_attempt", label="Build attempt")
    pipeline = django_filters.CharFilter(field_name="build__pipeline__slug", label="Pipeline (slug)")

    class Meta:
        model = GateCheck
        fields = ["result", "control_point", "attempt", "pipeline"]
