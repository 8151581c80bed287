"""The framework piece every project-scoped viewset shares: find the project, check the role.

A viewset names the URL keyword that holds the project slug and the role each action needs.
Before any handler runs, the project is looked up for the caller (404 for non-members) and the
role is checked (403 when too low), so viewsets stay short declarations.
"""

from apps.core.choices import Role
from apps.core.permissions import require_role
from apps.core.selectors import project_get_for_user


class ProjectScopedMixin:
    project_url_kwarg = "project_slug"
    required_roles: dict[str, Role] = {}
    project = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        slug = kwargs.get(self.project_url_kwarg)
        if slug is None:
            return
        self.project = project_get_for_user(request.user, slug)
        role = self.required_roles.get(self.action)
        if role is not None:
            require_role(request.user, self.project, role)

    def is_schema_request(self) -> bool:
        return getattr(self, "swagger_fake_view", False)
