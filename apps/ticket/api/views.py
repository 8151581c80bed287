"""REST API of a project's credentials under /api/v1/projects/{slug}/credentials/{NAME}/.

Members list names; maintainers and owners see the details, create, change, replace values,
delete, and read the audit trail and uses (the services check writes again). Non-members get 404.
"""

from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.choices import Role
from apps.core.permissions import has_role, require_role
from apps.core.selectors import project_get_for_user
from apps.ticket import selectors, services
from apps.ticket.api.serializers import (
    CredentialCreateSerializer,
    CredentialEventSerializer,
    CredentialNameSerializer,
    CredentialReplaceSerializer,
    CredentialSerializer,
    CredentialUpdateSerializer,
    CredentialUseSerializer,
)


class CredentialViewSet(viewsets.GenericViewSet):
    lookup_field = "name"
    lookup_value_regex = r"[A-Za-z0-9_]+"
    serializer_class = CredentialSerializer
    project = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.project = project_get_for_user(request.user, kwargs["project_slug"])

    def get_queryset(self):
        return selectors.credential_list(self.project)

    def _manager(self) -> bool:
        return has_role(self.request.user, self.project, Role.MAINTAINER)

    def _shape(self, credential_or_list, many=False):
        serializer = CredentialSerializer if self._manager() else CredentialNameSerializer
        return serializer(credential_or_list, many=many).data

    def _credential(self):
        return selectors.credential_get_for_user(self.request.user, self.project.slug, self.kwargs["name"])

    def list(self, request, project_slug):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self._shape(page, many=True))

    def retrieve(self, request, project_slug, name):
        return Response(self._shape(self._credential()))

    def create(self, request, project_slug):
        serializer = CredentialCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        credential = services.credential_create(
            project=self.project, user=request.user, **serializer.validated_data
        )
        return Response(self._shape(self._refetch(credential)), status=status.HTTP_201_CREATED)

    def partial_update(self, request, project_slug, name):
        credential = self._credential()
        serializer = CredentialUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.credential_update(credential=credential, user=request.user, **serializer.validated_data)
        return Response(self._shape(self._refetch(credential)))

    def destroy(self, request, project_slug, name):
        services.credential_delete(credential=self._credential(), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["post"], url_path="replace")
    def replace(self, request, project_slug, name):
        credential = self._credential()
        serializer = CredentialReplaceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.credential_replace_value(
            credential=credential, user=request.user, **serializer.validated_data
        )
        return Response(self._shape(self._refetch(credential)))

    @action(detail=True, methods=["get"])
    def events(self, request, project_slug, name):
        credential = self._credential()
        require_role(request.user, self.project, Role.MAINTAINER)
        page = self.paginate_queryset(selectors.credential_events(credential))
        return self.get_paginated_response(CredentialEventSerializer(page, many=True).data)

    @action(detail=True, methods=["get"])
    def uses(self, request, project_slug, name):
        credential = self._credential()
        require_role(request.user, self.project, Role.MAINTAINER)
        page = self.paginate_queryset(selectors.credential_uses(credential))
        return self.get_paginated_response(CredentialUseSerializer(page, many=True).data)

    def _refetch(self, credential):
        return self.get_queryset().get(pk=credential.pk)
