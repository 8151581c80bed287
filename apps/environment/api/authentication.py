"""DRF authentication for the agent endpoints: `Authorization: Agent <id>:<secret>`.

On success request.auth is the Agent and request.user stays AnonymousUser. A request without an
Agent header is left to other authenticators (None); a wrong one is refused with 401.
"""

from django.contrib.auth.models import AnonymousUser
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission

from apps.environment.models import Agent
from apps.environment.services import AGENT_SCHEME, agent_authenticate


class AgentAuthentication(BaseAuthentication):
    def authenticate(self, request):
        header = get_authorization_header(request).decode("latin-1")
        if not header.startswith(f"{AGENT_SCHEME} "):
            return None
        agent = agent_authenticate(header)
        if agent is None:
            raise exceptions.AuthenticationFailed("Unknown agent or wrong secret.")
        return AnonymousUser(), agent

    def authenticate_header(self, request):
        return AGENT_SCHEME


class IsAgent(BasePermission):
    """Only a request authenticated as an agent (request.auth is an Agent)."""

    def has_permission(self, request, view):
        return isinstance(request.auth, Agent)
