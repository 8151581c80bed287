"""REST API of a project's build machines, node groups and registration tokens under /api/v1/projects/{slug}/.

Members read; maintainers and owners write (the services check it); non-members get 404.
"""

from datetime import timedelta

from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from apps.core.selectors import project_get_for_user
from apps.environment import selectors, services
from apps.environment.api.serializers import (
    AgentCreateSerializer,
    AgentSerializer,
    NodeGroupSerializer,
    RegistrationTokenCreatedSerializer,
    RegistrationTokenSerializer,
)
from apps.environment.filtersets import AgentFilterSet, NodeGroupFilterSet, RegistrationTokenFilterSet
from apps.environment.install import install_command, server_base_url


class ProjectScopedViewSet(viewsets.GenericViewSet):
    lookup_value_regex = r"\d+"

    project = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.project = project_get_for_user(request.user, kwargs["project_slug"])

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "project": self.project}


class AgentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ProjectScopedViewSet,
):
    serializer_class = AgentSerializer
    filterset_class = AgentFilterSet

    def get_queryset(self):
        return selectors.agents_for_project(self.project)

    def get_object(self):
        return selectors.agent_get_for_user(self.request.user, self.project.slug, self.kwargs["pk"])

    def create(self, request, project_slug):
        serializer = AgentCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        agent, secret = services.agent_create(
            project=self.project, user=request.user, **serializer.validated_data
        )
        body = {**AgentSerializer(agent, context=self.get_serializer_context()).data, "secret": secret}
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        services.agent_update(agent=serializer.instance, user=self.request.user, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.agent_delete(agent=instance, user=self.request.user)


class NodeGroupViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ProjectScopedViewSet,
):
    serializer_class = NodeGroupSerializer
    filterset_class = NodeGroupFilterSet

    def get_queryset(self):
        return selectors.node_group_list(self.project)

    def get_object(self):
        return selectors.node_group_get_for_user(self.request.user, self.project.slug, self.kwargs["pk"])

    def perform_create(self, serializer):
        serializer.instance = services.node_group_create(
            project=self.project, user=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        services.node_group_update(
            node_group=serializer.instance, user=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.node_group_delete(node_group=instance, user=self.request.user)


class RegistrationTokenViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, ProjectScopedViewSet
):
    serializer_class = RegistrationTokenSerializer
    filterset_class = RegistrationTokenFilterSet

    def get_queryset(self):
        return selectors.registration_token_list(self.project)

    def get_object(self):
        return selectors.registration_token_get_for_user(
            self.request.user, self.project.slug, self.kwargs["pk"]
        )

    def create(self, request, project_slug):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        token, plaintext = services.registration_token_create(
            project=self.project,
            user=request.user,
            labels=data["labels"],
            slots=data.get("slots"),
            node_groups=data["node_groups"],
            expires_in=timedelta(hours=data["expires_in_hours"]),
        )
        token.token = plaintext
        token.install_command = install_command(server_base_url(request), plaintext)
        body = RegistrationTokenCreatedSerializer(token, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.registration_token_delete(token=instance, user=self.request.user)
