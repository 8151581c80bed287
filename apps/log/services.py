"""Ingest build log lines: bulk, idempotent by (job, attempt, seq), gap-aware."""

from datetime import UTC, datetime

from django.db import transaction

from apps.log.models import LogCursor, LogLine

MAX_LINE_CHARS = 16 * 1024
CUT_MARKER = " [line cut: longer than 16 KB]"


def _parse_timestamp(value) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except ValueError:
            pass
    return datetime.now(UTC)


def _clean_text(text: str, mask: list[str]) -> str:
    for value in mask:
        if value:
            text = text.replace(value, "***")
    if len(text) > MAX_LINE_CHARS:
        text = text[:MAX_LINE_CHARS] + CUT_MARKER
    return text


def log_lines_append(*, job, attempt: int, lines: list[dict], mask: list[str] = ()) -> int:
    """Store a batch and return the highest sequence number stored without a gap."""
    rows = [
        LogLine(
            job=job,
            attempt=attempt,
            seq=int(line["seq"]),
            step=line.get("step"),
            timestamp=_parse_timestamp(line.get("ts")),
            stream=str(line.get("stream") or "stdout")[:10],
            text=_clean_text(str(line.get("text", "")), list(mask)),
        )
        for line in lines
        if int(line.get("seq", 0)) > 0
    ]
    with transaction.atomic():
        cursor, _ = LogCursor.objects.select_for_update().get_or_create(job=job, attempt=attempt)
        LogLine.objects.bulk_create(rows, ignore_conflicts=True, batch_size=2000)
        stored = LogLine.objects.filter(job=job, attempt=attempt, seq__gt=cursor.stored_through)
        for seq in stored.order_by("seq").values_list("seq", flat=True).iterator():
            if seq != cursor.stored_through + 1:
                break
            cursor.stored_through = seq
        cursor.save(update_fields=["stored_through"])
    return cursor.stored_through
