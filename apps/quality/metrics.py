"""Metrics of builds: record what steps and reports say, read them back per job and per build.

Steps report metrics in each completed step's report (`::set-metric`, `$DEVOPS_METRICS`), which
`apps.process.services.jobs.step_record` hands to `metrics_record`; reports (JUnit, coverage) come
through the public API or the agent (`::upload-report`) and are parsed by `apps.quality.reports`.
A metric is one row per (build, job, name): a later value of the same name replaces it.
"""

import base64
import binascii
import math

from django.db import transaction

from apps.core.errors import PayloadTooLarge
from apps.quality.choices import MetricSource
from apps.quality.models import Metric
from apps.quality.reports import REPORT_MAX_BYTES, ReportError, report_metrics, report_type_check
from apps.quality.selectors import build_metrics

NAME_MAX_LENGTH = 200
TEXT_MAX_LENGTH = 1000
MAX_METRICS_PER_CALL = 200


def metric_value_clean(value):
    """A storable value (bool, int, finite float or text), or None for anything else."""
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return value[:TEXT_MAX_LENGTH]
    return None


def metrics_clean(metrics, mask=None) -> dict:
    """The usable entries of a reported name -> value mapping (at most MAX_METRICS_PER_CALL);
    text values go through `mask` (a SecretMask) when given."""
    if not isinstance(metrics, dict):
        return {}
    cleaned = {}
    for name, value in metrics.items():
        name = str(name).strip()
        value = metric_value_clean(value)
        if not name or len(name) > NAME_MAX_LENGTH or value is None:
            continue
        cleaned[name] = mask.mask(value) if mask and isinstance(value, str) else value
        if len(cleaned) >= MAX_METRICS_PER_CALL:
            break
    return cleaned


def metrics_record(*, build_id: int, job_id: int | None, metrics: dict, source: str = MetricSource.STEP,
                   mask=None) -> dict:
    """Upsert the metrics of a job (or, with `job_id` None, of the whole build); answers what was
    stored. Nothing happens for an empty mapping; a job's metrics are one bulk upsert."""
    cleaned = metrics_clean(metrics, mask)
    if not cleaned:
        return {}
    rows = [Metric(build_id=build_id, job_id=job_id, name=name, value=value, source=source)
            for name, value in cleaned.items()]
    if job_id is not None:
        Metric.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["build", "job", "name"],
            update_fields=["value", "source", "reported_at"],
        )
        return cleaned
    # NULL never conflicts in a unique index: build-wide values are updated or created one by one.
    with transaction.atomic():
        existing = {
            metric.name: metric
            for metric in Metric.objects.select_for_update().filter(
                build_id=build_id, job__isnull=True, name__in=list(cleaned)
            )
        }
        for row in rows:
            metric = existing.get(row.name)
            if metric is None:
                row.save()
            else:
                metric.value, metric.source = row.value, row.source
                metric.save(update_fields=["value", "source", "reported_at"])
    return cleaned


def report_record(*, build_id: int, job_id: int | None, kind: str, content: bytes) -> dict:
    """Parse a JUnit or coverage report and store its metrics; ReportError says why one is refused."""
    kind = report_type_check(kind)
    metrics = report_metrics(kind=kind, content=content)
    return metrics_record(build_id=build_id, job_id=job_id, metrics=metrics, source=kind)


def report_content_decode(encoded) -> bytes:
    """The bytes of a report the agent sent base64-encoded, within REPORT_MAX_BYTES."""
    if not isinstance(encoded, str) or not encoded:
        raise ReportError("'content' must be the report, base64-encoded")
    if len(encoded) > (REPORT_MAX_BYTES + 2) // 3 * 4:
        raise PayloadTooLarge(f"the report is larger than {REPORT_MAX_BYTES} bytes")
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ReportError("'content' is not valid base64") from None


def agent_report_upload(*, agent, job_id, body: dict) -> dict:
    """A report a job's step named with `::upload-report`, sent by the agent running the job."""
    from apps.process.services.jobs import job_for_agent

    job = job_for_agent(agent=agent, job_id=job_id)
    kind = report_type_check(body.get("type"))
    content = report_content_decode(body.get("content"))
    metrics = report_record(build_id=job.build_id, job_id=job.id, kind=kind, content=content)
    return {"type": kind, "metrics": metrics}


# Reads


def metric_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{round(value, 4):g}" if abs(value) < 1e15 else f"{value:.6g}"
    return str(value)


def build_metric_summary(build_id: int) -> dict:
    """`values`: one value per name for the build (the last reported wins); `jobs`: each job that
    reported metrics, in job order, with its values (key None: values posted for the whole build)."""
    rows = (
        Metric.objects.filter(build_id=build_id)
        .order_by("job_id", "name")
        .values_list("job_id", "job__key", "job__name", "name", "value")
    )
    jobs: dict = {}
    for job_id, key, job_name, name, value in rows:
        entry = jobs.setdefault(job_id, {"key": key, "name": job_name, "values": {}})
        entry["values"][name] = value
    ordered = [entry for job_id, entry in jobs.items() if job_id is not None]
    if None in jobs:
        ordered.append(jobs[None])
    return {"values": build_metrics(build_id) if jobs else {}, "jobs": ordered}


def build_metric_table(build_id: int) -> dict | None:
    """The build page's Metrics panel: a row per metric, the build's value and each job's."""
    summary = build_metric_summary(build_id)
    if not summary["jobs"]:
        return None
    columns = [entry["name"] or "Whole build" for entry in summary["jobs"]]
    rows = []
    for name, value in sorted(summary["values"].items()):
        cells = [entry["values"].get(name) for entry in summary["jobs"]]
        rows.append({
            "name": name,
            "value": metric_text(value),
            "cells": ["" if cell is None else metric_text(cell) for cell in cells],
        })
    return {"columns": columns if len(columns) > 1 else [], "rows": rows}
