"""Writes of build logs: ingest (`ingest`) and archive/retention (`archive`)."""

from apps.log.services.archive import log_attempt_archive, logs_archive_older, logs_purge_older
from apps.log.services.ingest import log_lines_append

__all__ = ["log_attempt_archive", "log_lines_append", "logs_archive_older", "logs_purge_older"]
