"""Why a registration token was refused: each is a 403 with its own code the agent can report."""

from apps.core.errors import PermissionDenied


class RegistrationTokenInvalid(PermissionDenied):
    code = "registration_token_invalid"
    default_message = "This registration token is not valid."


class RegistrationTokenExpired(PermissionDenied):
    code = "registration_token_expired"
    default_message = "This registration token has expired: create a new one."


class RegistrationTokenUsed(PermissionDenied):
    code = "registration_token_used"
    default_message = "This registration token has already been used: create a new one."
