"""`manage.py logs archive|purge [--older-than-days N]`: what the periodic task does, by hand."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.log.services import logs_archive_older, logs_purge_older


class Command(BaseCommand):
    help = "Archive (compress) or purge (delete) the logs of builds finished more than N days ago."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["archive", "purge"])
        parser.add_argument(
            "--older-than-days",
            type=int,
            default=None,
            help="Default: DEVOPS_LOG_ARCHIVE_AFTER_DAYS (archive) or DEVOPS_LOG_RETENTION_DAYS (purge).",
        )

    def handle(self, *args, action, older_than_days, **options):
        setting = "DEVOPS_LOG_ARCHIVE_AFTER_DAYS" if action == "archive" else "DEVOPS_LOG_RETENTION_DAYS"
        days = older_than_days if older_than_days is not None else getattr(settings, setting)
        if days < 0:
            raise CommandError("--older-than-days must be 0 or more")
        if older_than_days is None and days == 0:
            self.stdout.write(f"{setting} is 0: nothing to {action} (pass --older-than-days N)")
            return
        if action == "archive":
            count, verb = logs_archive_older(days=days), "archived"
        else:
            count, verb = logs_purge_older(days=days), "deleted"
        self.stdout.write(f"{verb} the logs of {count} job attempts of builds finished over {days} days ago")
