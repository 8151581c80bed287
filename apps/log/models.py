"""Build log lines, numbered per job attempt by the agent and stored a batch per row; per attempt, a
cursor of what is stored and, once archived, compressed chunks instead."""

from django.db import models


class LogChunk(models.Model):
    """The lines of one ingested batch of a job attempt, as one row (format: apps/log/chunks.py)."""

    job = models.ForeignKey("process.JobRun", on_delete=models.CASCADE, related_name="log_chunks")
    attempt = models.PositiveIntegerField(default=1)
    first_seq = models.PositiveIntegerField()
    last_seq = models.PositiveIntegerField()
    line_count = models.PositiveIntegerField()
    text = models.TextField(help_text="The lines' texts joined by newlines.")
    meta = models.TextField(help_text="Steps, times, streams, levels (and seqs when not consecutive).")
    indexed = models.BooleanField(
        default=False, help_text="In the search index (PostgreSQL); set in the background, off ingest."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "attempt", "first_seq"], name="log_chunk_per_first_seq"),
        ]
        indexes = [
            models.Index(fields=["job", "attempt", "last_seq"], name="log_chunk_last_seq"),
            models.Index(fields=["id"], condition=models.Q(indexed=False), name="log_chunk_to_index"),
        ]


class LogCursor(models.Model):
    """What is stored of one job attempt: the highest sequence number up to which lines are stored
    without a gap, the highest stored, the range the line budget dropped (reads hide it and show
    a marker line at its first seq), and whether the lines now live in LogArchive chunks."""

    job = models.ForeignKey("process.JobRun", on_delete=models.CASCADE, related_name="+")
    attempt = models.PositiveIntegerField(default=1)
    stored_through = models.PositiveIntegerField(default=0)
    max_seq = models.PositiveIntegerField(default=0)
    dropped_from = models.PositiveIntegerField(default=0, help_text="Seq of the budget marker line; 0: none.")
    dropped_through = models.PositiveIntegerField(default=0)
    dropped_budget = models.PositiveIntegerField(default=0, help_text="The budget that dropped lines.")
    dropped_at = models.DateTimeField(null=True, blank=True, help_text="When lines were last dropped.")
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
