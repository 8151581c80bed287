"""Turns application errors raised by page views into error pages with the API's statuses."""

from django.core.exceptions import RequestDataTooBig
from django.shortcuts import render

from apps.core.api.exceptions import error_status
from apps.core.errors import ApplicationError, PayloadTooLarge


class ApplicationErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, RequestDataTooBig):
            exception = PayloadTooLarge("The request body is larger than the server accepts.")
        if not isinstance(exception, ApplicationError):
            return None
        status = error_status(exception)
        return render(request, "error.html", {"status": status, "message": exception.message}, status=status)
