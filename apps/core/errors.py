"""The application's error hierarchy: services raise these, one handler turns them into HTTP."""

from django.core.exceptions import ValidationError as DjangoValidationError


class ApplicationError(Exception):
    code = "error"
    default_message = "The request could not be completed."

    def __init__(self, message: str | None = None, *, details=None):
        self.message = message or self.default_message
        self.details = details
        super().__init__(self.message)


class NotFound(ApplicationError):
    code = "not_found"
    default_message = "Not found."


class PermissionDenied(ApplicationError):
    code = "permission_denied"
    default_message = "You do not have permission to do this."


class ValidationFailed(ApplicationError):
    code = "validation_failed"
    default_message = "The input is not valid."

    @classmethod
    def from_django(cls, error: DjangoValidationError) -> "ValidationFailed":
        if hasattr(error, "error_dict"):
            return cls(details=error.message_dict)
        return cls(details={"non_field_errors": error.messages})

    @property
    def problems(self) -> list[dict]:
        if isinstance(self.details, dict):
            return list(self.details.get("problems", []))
        return []


class PayloadTooLarge(ApplicationError):
    code = "payload_too_large"
    default_message = "The request body is too large."


class Conflict(ApplicationError):
    code = "conflict"
    default_message = "This conflicts with the current state."
