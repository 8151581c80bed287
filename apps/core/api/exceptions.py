"""One place where application errors become HTTP responses.

Every API error body has the shape {"error": {"code", "message", "details"}}: the application's
own errors (apps.core.errors), DRF's (validation, authentication, 404, 405...) and Django's
oversized request bodies alike. Pages use `error_status` to answer with the same statuses.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

from apps.core import errors

STATUS_BY_ERROR = {
    errors.NotFound: status.HTTP_404_NOT_FOUND,
    errors.PermissionDenied: status.HTTP_403_FORBIDDEN,
    errors.ValidationFailed: status.HTTP_400_BAD_REQUEST,
    errors.PayloadTooLarge: status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    errors.Conflict: status.HTTP_409_CONFLICT,
}


def error_status(error: errors.ApplicationError) -> int:
    for error_class, http_status in STATUS_BY_ERROR.items():
        if isinstance(error, error_class):
            return http_status
    return status.HTTP_400_BAD_REQUEST


def error_body(code: str, message: str, details=None) -> dict:
    return {"error": {"code": code, "message": message, "details": details}}


def _as_application_error(exc):
    if isinstance(exc, RequestDataTooBig):
        return errors.PayloadTooLarge("The request body is larger than the server accepts.")
    if isinstance(exc, Http404):
        return drf_exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return drf_exceptions.PermissionDenied()
    return exc


def api_exception_handler(exc, context):
    exc = _as_application_error(exc)
    if isinstance(exc, errors.ApplicationError):
        set_rollback()
        return Response(error_body(exc.code, exc.message, exc.details), status=error_status(exc))
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, drf_exceptions.ValidationError):
        response.data = error_body("validation_failed", "The input is not valid.", exc.detail)
    else:
        code = exc.get_codes()
        response.data = error_body(code if isinstance(code, str) else exc.default_code, str(exc.detail))
    return response
