"""The Plan a pipeline compiles to (see docs/plan-format.md) and helpers for those who read it.

`expand_deferred_job` is for the engine: a job whose matrix is an expression is one Plan entry
until the outputs it needs are known; then it becomes one entry per combination, with the same
key and name rules the compiler applies."""

from __future__ import annotations

import json
from collections.abc import Iterator

from .checks import OPEN, template_contexts
from .contexts import STATIC_CONTEXTS
from .expressions import render_template, render_value, to_string
from .matrix import combination_label, expand_matrix_expression

PLAN_FORMAT_VERSION = 1


def clone(entry: dict) -> dict:
    """An independent copy of a Plan entry (JSON data), much faster than `copy.deepcopy`."""
    return json.loads(json.dumps(entry))


def iter_jobs(plan: dict) -> Iterator[tuple[dict, dict]]:
    """(stage, job) for every job entry of the Plan, in order."""
    for stage in plan["stages"]:
        for job in stage["jobs"]:
            yield stage, job


def find_job(plan: dict, key: str) -> dict | None:
    return next((job for _, job in iter_jobs(plan) if job["key"] == key), None)


def find_stage(plan: dict, stage_id: str) -> dict | None:
    return next((stage for stage in plan["stages"] if stage["id"] == stage_id), None)


def is_static(text: str) -> bool:
    """Whether a (valid) template reads only what is known when the build starts."""
    return template_contexts(text) <= STATIC_CONTEXTS


def render_job_name(template: str, combination: dict | None, contexts: dict) -> str:
    """A job's name: its `name:` (or id) rendered with the build's static contexts and the matrix
    combination; a matrix job whose name does not mention `matrix` gets its values appended,
    as in GitHub Actions. Raises ExpressionError."""
    name = template
    if OPEN in template and is_static(template):
        name = render_template(template, {**contexts, "matrix": combination or {}})
    if combination is not None and "matrix" not in _contexts_of(template):
        name = f"{name} ({combination_label(combination)})"
    return name


def render_labels(labels: list[str], combination: dict | None, contexts: dict) -> list[str]:
    """`runs-on` labels with their expressions rendered; an expression giving a list adds each item.
    Raises ExpressionError."""
    rendered: list[str] = []
    for label in labels:
        if OPEN not in label:
            rendered.append(label)
            continue
        value = render_value(label, {**contexts, "matrix": combination or {}})
        items = value if isinstance(value, list) else [value]
        rendered.extend(to_string(item) for item in items)
    return rendered


def expand_deferred_job(job: dict, contexts: dict) -> list[dict]:
    """The entries of a job whose matrix is an expression, now that `contexts` (with `needs`) can
    render it. Raises ExpressionError or MatrixError (a ValueError)."""
    combinations = expand_matrix_expression(job["matrix_expression"], contexts)
    entries = []
    for number, combination in enumerate(combinations):
        entry = clone(job)
        entry.update(
            key=f"{job['id']}.{number}",
            matrix=combination,
            matrix_expression=None,
            name=render_job_name(job["name"], combination, contexts),
        )
        entry["runs_on"]["labels"] = render_labels(job["runs_on"]["labels"], combination, contexts)
        entries.append(entry)
    return entries


def _contexts_of(template: str) -> set[str]:
    return template_contexts(template) if OPEN in template else set()
