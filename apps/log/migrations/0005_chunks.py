"""Log lines move from one row per line (LogLine) to one row per batch (LogChunk). On PostgreSQL the
chunks' text and meta are compressed with lz4 where the server has it, and a pg_trgm index covers
the text of the chunks marked `indexed` (set in the background, so ingest never waits for it). The
line budget's marker is now drawn from the cursor."""

import re

import django.db.models.deletion
from django.conf import settings
from django.db import DatabaseError, migrations, models, transaction

from apps.log.chunks import chunk_encode
from apps.log.lines import Line, iso

PIECE_LINES = 1000
INDEX = "log_chunk_text_trgm"
LINE_FIELDS = ("seq", "step", "timestamp", "stream", "level", "text")


def lines_to_chunks(apps, schema_editor):
    LogLine = apps.get_model("log", "LogLine")
    LogChunk = apps.get_model("log", "LogChunk")
    LogCursor = apps.get_model("log", "LogCursor")
    attempts = LogLine.objects.values_list("job_id", "attempt").distinct()
    for job_id, attempt in attempts.iterator():
        rows = LogLine.objects.filter(job_id=job_id, attempt=attempt).order_by("seq")
        after = 0
        while piece := [
            Line(seq, step, iso(moment), stream, level, text)
            for seq, step, moment, stream, level, text in rows.filter(seq__gt=after).values_list(*LINE_FIELDS)[
                :PIECE_LINES
            ]
        ]:
            chunk = chunk_encode(piece)
            LogChunk.objects.create(
                job_id=job_id, attempt=attempt, first_seq=chunk.first_seq, last_seq=chunk.last_seq,
                line_count=chunk.line_count, text=chunk.text, meta=chunk.meta,
            )
            after = piece[-1].seq
    for cursor in LogCursor.objects.exclude(dropped_from=0).iterator():
        marker = LogLine.objects.filter(job_id=cursor.job_id, attempt=cursor.attempt, seq=cursor.dropped_from).first()
        found = re.search(r"budget of (\d+) lines", marker.text if marker else "")
        cursor.dropped_budget = int(found[1]) if found else settings.DEVOPS_LOG_LINE_BUDGET
        cursor.dropped_at = marker.timestamp if marker else None
        cursor.save(update_fields=["dropped_budget", "dropped_at"])


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON log_logchunk USING gin (text gin_trgm_ops) WHERE indexed"
    )
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            for column in ("text", "meta"):
                schema_editor.execute(f"ALTER TABLE log_logchunk ALTER COLUMN {column} SET COMPRESSION lz4")
    except DatabaseError:
        pass  # a server built without lz4 keeps its default compression


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):

    dependencies = [
        ('log', '0004_cursor_max_seq_and_text_trigram_index'),
        ('process', '0007_stagereview'),
    ]

    operations = [
        migrations.AddField(
            model_name='logcursor',
            name='dropped_at',
            field=models.DateTimeField(blank=True, help_text='When lines were last dropped.', null=True),
        ),
        migrations.AddField(
            model_name='logcursor',
            name='dropped_budget',
            field=models.PositiveIntegerField(default=0, help_text='The budget that dropped lines.'),
        ),
        migrations.CreateModel(
            name='LogChunk',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('attempt', models.PositiveIntegerField(default=1)),
                ('first_seq', models.PositiveIntegerField()),
                ('last_seq', models.PositiveIntegerField()),
                ('line_count', models.PositiveIntegerField()),
                ('text', models.TextField(help_text="The lines' texts joined by newlines.")),
                ('meta', models.TextField(help_text='Steps, times, streams, levels (and seqs when not consecutive).')),
                ('indexed', models.BooleanField(default=False, help_text='In the search index (PostgreSQL); set in the background, off ingest.')),
                ('job', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='log_chunks', to='process.jobrun')),
            ],
        ),
        migrations.RunPython(lines_to_chunks, migrations.RunPython.noop),
        migrations.DeleteModel(
            name='LogLine',
        ),
        migrations.AddIndex(
            model_name='logchunk',
            index=models.Index(fields=['job', 'attempt', 'last_seq'], name='log_chunk_last_seq'),
        ),
        migrations.AddIndex(
            model_name='logchunk',
            index=models.Index(condition=models.Q(('indexed', False)), fields=['id'], name='log_chunk_to_index'),
        ),
        migrations.AddConstraint(
            model_name='logchunk',
            constraint=models.UniqueConstraint(fields=('job', 'attempt', 'first_seq'), name='log_chunk_per_first_seq'),
        ),
        migrations.RunPython(create_index, drop_index),
    ]
