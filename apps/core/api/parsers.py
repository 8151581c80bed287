"""Request parsers that refuse bodies over DATA_UPLOAD_MAX_MEMORY_SIZE with a 413.

DRF reads JSON and form bodies straight from the stream, bypassing Django's own size check, so
the limit is enforced here before anything is read.
"""

from django.conf import settings
from rest_framework.parsers import FormParser, JSONParser

from apps.core.errors import PayloadTooLarge


def _content_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except (AttributeError, ValueError):
        return 0


class BoundedParserMixin:
    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        length = _content_length(request)
        if limit is not None and length > limit:
            raise PayloadTooLarge(
                f"The request body is {length} bytes; the limit is {limit} bytes.",
                details={"size": length, "limit": limit},
            )
        return super().parse(stream, media_type, parser_context)


class BoundedJSONParser(BoundedParserMixin, JSONParser):
    pass


class BoundedFormParser(BoundedParserMixin, FormParser):
    pass
