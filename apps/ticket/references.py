"""Which credentials a job references: `secrets.NAME`, `secrets['NAME']` or (all of them) a bare
`secrets`, inside the `${{ }}` templates and the `if` conditions of the job's part of the Plan."""

import re

TEMPLATE = re.compile(r"\$\{\{(.*?)\}\}", re.S)
REFERENCE = re.compile(
    r"(?<![\w.])secrets\b(?:\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)|\s*\[\s*'((?:[^']|'')*)'\s*\])?"
)
ALL = "*"


def _strings(value, key: str = ""):
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for name, item in value.items():
            yield from _strings(item, str(name))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item, key)


def names_in_expression(text: str) -> set[str]:
    names = set()
    for match in REFERENCE.finditer(text):
        name = match.group(1) or (match.group(2) or "").replace("''", "'")
        names.add(name or ALL)
    return names


def names_in(value) -> set[str]:
    """Names referenced anywhere in a Plan fragment; `ALL` when `secrets` itself is used."""
    names: set[str] = set()
    for key, text in _strings(value):
        if "secrets" not in text:
            continue
        if key == "if":
            names |= names_in_expression(text)
        for template in TEMPLATE.findall(text):
            names |= names_in_expression(template)
    return names


def plan_job_references(plan: dict, job_id: str) -> set[str]:
    """Names the job (every combination of it) and the pipeline-wide env it inherits reference."""
    parts = [plan.get("env") or {}, plan.get("defaults") or {}]
    for stage in plan.get("stages") or []:
        parts.extend(job for job in stage.get("jobs") or [] if job.get("id") == job_id)
    return names_in(parts)
