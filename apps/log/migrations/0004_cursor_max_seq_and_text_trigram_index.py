"""Fill LogCursor.max_seq for lines stored before it existed; on PostgreSQL, a pg_trgm GIN index on
LogLine.text for case-insensitive substring and regex search (other databases scan)."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations
from django.db.models import Max, OuterRef, Subquery
from django.db.models.functions import Coalesce

INDEX = "log_line_text_trgm"


def fill_max_seq(apps, schema_editor):
    LogCursor = apps.get_model("log", "LogCursor")
    LogLine = apps.get_model("log", "LogLine")
    highest = (
        LogLine.objects.filter(job_id=OuterRef("job_id"), attempt=OuterRef("attempt"))
        .values("job_id")
        .annotate(top=Max("seq"))
        .values("top")
    )
    LogCursor.objects.update(max_seq=Coalesce(Subquery(highest), 0))


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON log_logline USING gin (text gin_trgm_ops)")


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("log", "0003_line_level_budget_archive")]

    operations = [
        migrations.RunPython(fill_max_seq, migrations.RunPython.noop),
        TrigramExtension(),
        migrations.RunPython(create_index, drop_index),
    ]
