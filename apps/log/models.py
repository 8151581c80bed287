"""Build log lines, numbered per job attempt by the agent."""

from django.db import models


class LogLine(models.Model):
    job = models.ForeignKey("process.JobRun", on_delete=models.CASCADE, related_name="log_lines")
    attempt = models.PositiveIntegerField(default=1)
    seq = models.PositiveIntegerField()
    step = models.IntegerField(null=True, blank=True)
    timestamp = models.DateTimeField()
    stream = models.CharField(max_length=10, default="stdout")
    text = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "attempt", "seq"], name="log_line_seq_per_job_attempt")
        ]
        ordering = ["job", "attempt", "seq"]


class LogCursor(models.Model):
    """The highest sequence number up to which a job attempt's lines are stored without a gap."""

    job = models.ForeignKey("process.JobRun", on_delete=models.CASCADE, related_name="+")
    attempt = models.PositiveIntegerField(default=1)
    stored_through = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "attempt"], name="log_cursor_per_job_attempt")]
