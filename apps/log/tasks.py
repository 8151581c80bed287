"""Celery tasks of the log app (queue `log`): the periodic search indexing, archive and retention
of build logs."""

from celery import shared_task
from django.conf import settings

from apps.log.services import log_chunks_compact, log_chunks_index, logs_archive_older, logs_purge_older


@shared_task(name="apps.log.tasks.logs_index", acks_late=True)
def logs_index() -> dict:
    """Merge the small chunks stored since the last run, then put them into the search index
    (PostgreSQL)."""
    return {"merged": log_chunks_compact(), "indexed": log_chunks_index()}


@shared_task(name="apps.log.tasks.logs_maintain", acks_late=True)
def logs_maintain() -> dict:
    """Archive finished builds' logs after DEVOPS_LOG_ARCHIVE_AFTER_DAYS and delete them after
    DEVOPS_LOG_RETENTION_DAYS (a setting of 0 turns that part off)."""
    done = {"archived": 0, "purged": 0}
    if settings.DEVOPS_LOG_RETENTION_DAYS > 0:
        done["purged"] = logs_purge_older(days=settings.DEVOPS_LOG_RETENTION_DAYS)
    if settings.DEVOPS_LOG_ARCHIVE_AFTER_DAYS > 0:
        done["archived"] = logs_archive_older(days=settings.DEVOPS_LOG_ARCHIVE_AFTER_DAYS)
    return done
