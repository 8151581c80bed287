"""Writes of build logs: ingest (`ingest`), compaction of small chunks (`compaction`), the search
index (`search_index`) and archive/retention (`archive`)."""

from apps.log.services.archive import log_attempt_archive, logs_archive_older, logs_purge_older
from apps.log.services.compaction import log_chunks_compact
from apps.log.services.ingest import log_columns_append, log_lines_append
from apps.log.services.search_index import log_chunks_index

__all__ = [
    "log_attempt_archive", "log_chunks_compact", "log_chunks_index", "log_columns_append", "log_lines_append",
    "logs_archive_older", "logs_purge_older",
]
