"""The search index of build logs on PostgreSQL: a pg_trgm GIN index over the text of the chunks
marked `indexed`. Ingest leaves new chunks out of it (indexing a chunk costs several times its
insert), and the periodic task `apps.log.tasks.logs_index` puts them in, a batch at a time;
search scans the few chunks not in it yet. Other databases have no such index."""

from django.db import connection

from apps.log.models import LogChunk

INDEX_BATCH_CHUNKS = 200


def log_chunks_index() -> int:
    """Put every chunk not in the search index yet into it; returns how many went in."""
    if connection.vendor != "postgresql":
        return 0
    done = 0
    waiting = LogChunk.objects.filter(indexed=False).order_by("id").values_list("id", flat=True)
    while ids := list(waiting[:INDEX_BATCH_CHUNKS]):
        done += LogChunk.objects.filter(id__in=ids).update(indexed=True)
    return done
