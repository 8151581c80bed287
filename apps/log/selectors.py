"""Read build log lines in order, page by page."""

from apps.log.models import LogLine


def log_lines_page(*, job, attempt: int, after_seq: int = 0, limit: int = 1000) -> list[LogLine]:
    return list(LogLine.objects.filter(job=job, attempt=attempt, seq__gt=after_seq).order_by("seq")[:limit])
