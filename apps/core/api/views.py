"""Project and member endpoints: declarations that call core services and selectors."""

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny

from apps.core import services
from apps.core.api.mixins import ProjectScopedMixin
from apps.core.api.schema import PROJECT_SLUG_PARAMETER, URL_SEGMENT
from apps.core.api.serializers import MembershipSerializer, ProjectSerializer
from apps.core.choices import Role
from apps.core.errors import NotFound
from apps.core.filtersets import MembershipFilterSet, ProjectFilterSet
from apps.core.models import Membership, Project
from apps.core.selectors import membership_get, membership_list, project_get_for_user, project_list_for_user


@extend_schema(tags=["projects"])
class ProjectViewSet(ProjectScopedMixin, viewsets.ModelViewSet):
    serializer_class = ProjectSerializer
    filterset_class = ProjectFilterSet
    queryset = Project.objects.none()
    lookup_field = "slug"
    lookup_value_regex = URL_SEGMENT
    project_url_kwarg = "slug"
    required_roles = {"update": Role.MAINTAINER, "partial_update": Role.MAINTAINER, "destroy": Role.OWNER}

    def get_queryset(self):
        return project_list_for_user(self.request.user)

    def get_object(self):
        return self.project

    def perform_create(self, serializer):
        project = services.project_create(user=self.request.user, **serializer.validated_data)
        serializer.instance = project_get_for_user(self.request.user, project.slug)

    def perform_update(self, serializer):
        services.project_update(
            project=serializer.instance, user=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.project_delete(project=instance, user=self.request.user)


@extend_schema(tags=["members"], parameters=[PROJECT_SLUG_PARAMETER])
class MembershipViewSet(ProjectScopedMixin, viewsets.ModelViewSet):
    serializer_class = MembershipSerializer
    filterset_class = MembershipFilterSet
    queryset = Membership.objects.none()
    lookup_field = "user__username"
    lookup_url_kwarg = "username"
    lookup_value_regex = r"[\w.@+-]+"
    required_roles = {"create": Role.MAINTAINER, "update": Role.MAINTAINER, "partial_update": Role.MAINTAINER}

    def get_queryset(self):
        if self.project is None:
            return Membership.objects.none()
        return membership_list(self.project)

    def get_object(self):
        return membership_get(self.project, self.kwargs["username"])

    def perform_create(self, serializer):
        serializer.instance = services.member_add(
            project=self.project, user=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.member_change_role(
            project=self.project,
            user=self.request.user,
            username=serializer.instance.username,
            role=serializer.validated_data.get("role", serializer.instance.role),
        )

    def perform_destroy(self, instance):
        services.member_remove(project=self.project, user=self.request.user, username=instance.username)


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
@permission_classes([AllowAny])
def api_not_found(request, *args, **kwargs):
    raise NotFound("There is no such API endpoint.")
