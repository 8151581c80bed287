"""Which token scope a request needs: one table for every endpoint, present and future.

Safe methods need `read`; starting, stopping or deciding runs (trigger, cancel, retry, approve,
reject, override) needs `trigger`; managing who has access (members, tokens, webhooks, the project
itself) needs `admin`; every other write needs `write`. A view may name its own scopes per action
in `token_scopes` (e.g. a POST that only checks input can need `read`).
"""

from rest_framework.permissions import SAFE_METHODS

from apps.openapi.choices import Scope

TRIGGER_ACTIONS = frozenset({"trigger", "cancel", "retry", "approve", "reject", "override", "run"})
# Viewsets (router basenames) whose every write manages access.
ADMIN_BASENAMES = frozenset({"member", "api-token", "project-token", "registration-token", "webhook"})
# Writes of these (basename, action) pairs are `admin`; the project's own settings and its deletion.
ADMIN_ACTIONS = frozenset({("project", "update"), ("project", "partial_update"), ("project", "destroy")})
# Starting builds: the builds viewset's create.
TRIGGER_CREATES = frozenset({"build"})
# Plain views (no viewset) by URL name and method.
ROUTE_SCOPES = {("pipeline-validate", "POST"): Scope.READ}


def required_scope(request, view) -> Scope:
    action = getattr(view, "action", None)
    declared = getattr(view, "token_scopes", {})
    if action in declared:
        return Scope(declared[action])
    route = getattr(request.resolver_match, "url_name", None)
    if (route, request.method) in ROUTE_SCOPES:
        return ROUTE_SCOPES[(route, request.method)]
    if request.method in SAFE_METHODS:
        return Scope.READ
    basename = getattr(view, "basename", None)
    if basename in ADMIN_BASENAMES or (basename, action) in ADMIN_ACTIONS:
        return Scope.ADMIN
    if action in TRIGGER_ACTIONS or (action == "create" and basename in TRIGGER_CREATES):
        return Scope.TRIGGER
    return Scope.WRITE
