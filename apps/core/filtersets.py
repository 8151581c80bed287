"""Filters for project and member lists, shared by the pages and the REST API."""

import django_filters

from apps.core.choices import Role
from apps.core.models import Membership, Project


class ProjectFilterSet(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    slug = django_filters.CharFilter(lookup_expr="icontains")
    role = django_filters.ChoiceFilter(choices=Role.choices, field_name="my_role", label="My role")

    class Meta:
        model = Project
        fields = ["name", "slug", "role"]


class MembershipFilterSet(django_filters.FilterSet):
    username = django_filters.CharFilter(field_name="user__username", lookup_expr="icontains")
    role = django_filters.ChoiceFilter(choices=Role.choices)

    class Meta:
        model = Membership
        fields = ["username", "role"]
