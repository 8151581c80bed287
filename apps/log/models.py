"""Build log lines, numbered per job attempt by the agent; per attempt, a cursor of what is stored
and, once archived, compressed chunks instead of rows."""

from django.db import models


class LogLine(models.Model):
    job = models.ForeignKey("process.JobRun", on_delete=models.CASCADE, related_name="log_lines")
    attempt = models.PositiveIntegerField(default=1)
    seq = models.PositiveIntegerField()
    step = models.IntegerField(null=True, blank=True)
    timestamp = models.DateTimeField()
    stream = models.CharField(max_length=10, default="stdout")
    level = models.CharField(max_length=7, blank=True, default="", help_text='"error", "warning" or "".')
    text = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "attempt", "seq"], name="log_line_seq_per_job_attempt")
        ]
        ordering = ["job", "attempt", "seq"]


class LogCursor(models.Model):
    """What is stored of one job attempt: the highest sequence number up to which lines are stored
    without a gap, the highest stored, the range the line budget dropped, and whether the lines
    now live in LogArchive chunks."""

    job = models.ForeignKey("process.JobRun", on_delete=models.CASCADE, related_name="+")
    attempt = models.PositiveIntegerField(default=1)
    stored_through = models.PositiveIntegerField(default=0)
    max_seq = models.PositiveIntegerField(default=0)
    dropped_from = models.PositiveIntegerField(default=0, help_text="Seq of the budget marker line; 0: none.")
    dropped_through = models.PositiveIntegerField(default=0)
    archived = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "attempt"], name="log_cursor_per_job_attempt")]

    @property
    def dropped(self) -> int:
        return self.dropped_through - self.dropped_from + 1 if self.dropped_from else 0


class LogArchive(models.Model):
    """A run of consecutive lines of an archived job attempt, gzip-compressed JSON lines."""

    job = models.ForeignKey("process.JobRun", on_delete=models.CASCADE, related_name="+")
    attempt = models.PositiveIntegerField(default=1)
    first_seq = models.PositiveIntegerField()
    last_seq = models.PositiveIntegerField()
    line_count = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "attempt", "first_seq"], name="log_archive_chunk_per_job")
        ]
