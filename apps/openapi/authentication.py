"""`Authorization: Bearer dvp_...`: DRF authentication with API tokens, beside the browser session.

On success request.user is the token's user (a bot user for a project token) and request.auth the
ApiToken. A request without a Bearer header is left to the other authenticators; a bad, revoked or
expired token is refused with 401 and `WWW-Authenticate: Bearer`.
"""

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from apps.openapi.services import token_authenticate

SCHEME = "Bearer"


def bearer_value(request) -> str | None:
    header = get_authorization_header(request).decode("latin-1")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != SCHEME.lower():
        return None
    return value.strip()


class BearerTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        value = bearer_value(request)
        if value is None:
            return None
        token = token_authenticate(value)
        if token is None:
            raise exceptions.AuthenticationFailed("The token is unknown, revoked or expired.")
        return token.user, token

    def authenticate_header(self, request):
        # Only a request that tried a token is told to use one: anonymous callers keep the 403 the
        # session authentication gives them.
        if bearer_value(request) is None:
            return None
        return f'{SCHEME} realm="api"'
