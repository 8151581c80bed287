"""Filters for project and member lists, shared by the pages and the REST API, and a date-time
filter every list uses."""

from datetime import UTC

import django_filters
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField

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


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, turned to UTC: the database refuses some offsets Python accepts
    (`-17:26`), and a moment past year 9999 once in UTC is refused here with a clear message."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise ValidationError("This date-time is out of range.", code="invalid") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField
