"""The token check every API view gets by default (REST_FRAMEWORK's DEFAULT_PERMISSION_CLASSES).

A request authenticated by a session passes; one with a token needs the scope `scopes.required_scope`
names (403 `insufficient_scope` otherwise), and a project bot token reaches its own project only
(404 elsewhere, as for any non-member).
"""

from rest_framework.permissions import BasePermission

from apps.core.errors import NotFound, PermissionDenied
from apps.openapi.models import ApiToken
from apps.openapi.scopes import required_scope

PROJECT_KWARGS = ("project_slug",)


class InsufficientScope(PermissionDenied):
    code = "insufficient_scope"


def url_project_slug(view) -> str | None:
    kwargs = getattr(view, "kwargs", {}) or {}
    for name in PROJECT_KWARGS:
        if name in kwargs:
            return kwargs[name]
    if getattr(view, "basename", None) == "project" and "slug" in kwargs:
        return kwargs["slug"]
    return None


class TokenScopePermission(BasePermission):
    def has_permission(self, request, view):
        token = request.auth
        if not isinstance(token, ApiToken):
            return True
        scope = required_scope(request, view)
        if not token.allows(scope):
            raise InsufficientScope(
                f"This needs a token with the '{scope.value}' scope; this one has {', '.join(token.scopes)}.",
                details={"required_scope": scope.value, "token_scopes": token.scopes},
            )
        slug = url_project_slug(view)
        if token.project_id is not None and slug is not None and slug != token.project.slug:
            raise NotFound("Project not found.")
        return True
