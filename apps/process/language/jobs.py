"""Jobs: one Plan entry per matrix combination (or one deferred entry for a matrix given as an
expression), with `runs-on` and `name` rendered from the build's static contexts. The entries of one
job share what does not vary between combinations (steps, env, outputs): the Plan is read-only."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .checks import (
    is_valid_template,
    read_condition,
    read_flag_or_condition,
    read_template,
    read_template_map,
    template_contexts,
)
from .expressions import ExpressionError
from .graph import Need
from .matrix import MatrixSpec, read_matrix
from .plan import is_static, render_job_name, render_labels
from .schema import JOB, JOB_RETRY, RUNS_ON, STRATEGY, Reader
from .steps import MAX_RETRY, RunDefaults, read_run_defaults, read_steps
from .yaml_source import YMap, YNode, YScalar, YSeq, describe

JOB_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
DEFAULT_TIMEOUT_MINUTES = 360
RUNS_ON_CONTEXTS = "ci, github, inputs, variables, vars and matrix"
RETRY_WHEN = ("agent-lost",)


@dataclass
class JobDraft:
    """A job as read, before its stage checks the needs: `entries` are its Plan entries."""

    id: str
    needs: list[Need] = field(default_factory=list)
    entries: list[dict] = field(default_factory=list)


@dataclass
class RunsOn:
    labels: list[tuple[str, YNode]] = field(default_factory=list)
    pool: str | None = None


def read_job(reader: Reader, job_id: str, node: YNode, contexts: dict, defaults: RunDefaults) -> JobDraft:
    fields = reader.mapping(node, JOB)
    if fields is None:
        return JobDraft(job_id)
    needs = [Need(text, item) for item in reader.items(fields.get("needs")) if (text := reader.text(item))]
    strategy = reader.mapping(fields.get("strategy"), STRATEGY) or {}
    matrix = read_matrix(reader, strategy, contexts)
    template = {
        "key": job_id,
        "id": job_id,
        "name": job_id,
        "matrix": None,
        "matrix_expression": matrix.deferred,
        "needs": [],
        "if": read_condition(reader, fields.get("if")),
        "runs_on": {"labels": [], "pool": None},
        "timeout_minutes": reader.minutes(fields.get("timeout-minutes"), DEFAULT_TIMEOUT_MINUTES),
        "continue_on_error": read_flag_or_condition(reader, fields.get("continue-on-error"), False),
        "retry": read_job_retry(reader, fields.get("retry")),
        "strategy": {
            "fail_fast": reader.boolean(strategy.get("fail-fast"), True),
            "max_parallel": reader.integer(strategy.get("max-parallel"), None, 1),
        },
        "env": read_template_map(reader, fields.get("env"), "env"),
        "outputs": read_template_map(reader, fields.get("outputs"), "outputs"),
        "steps": read_steps(
            reader, fields.get("steps"), read_run_defaults(reader, fields.get("defaults")).under(defaults)
        ),
    }
    name_node = fields.get("name")
    name = read_template(reader, name_node, job_id)
    runs_on = read_runs_on(reader, fields.get("runs-on"))
    entries = _entries(reader, template, matrix, name, name_node or node, runs_on, contexts)
    return JobDraft(job_id, needs, entries)


def read_job_retry(reader: Reader, node: YNode | None) -> dict:
    """`retry: {max: N, when: [agent-lost]}`: run the job again on another agent, up to N times,
    when its agent is lost. A failing command is retried by the step's own `retry`."""
    if isinstance(node, YScalar):
        reader.report(
            node,
            "a job's retry runs it again when its agent is lost: write { max: 2, when: [agent-lost] }; "
            "to retry a failing command, give its step a 'retry'",
        )
        return {"max": 0, "when": []}
    fields = reader.mapping(node, JOB_RETRY) if node is not None else None
    if not fields:
        return {"max": 0, "when": []}
    when = []
    for item in reader.items(fields.get("when")):
        text = reader.text(item)
        if text in RETRY_WHEN:
            when.append(text)
        elif text is not None:
            reader.report(item, f"retry.when must be one of {', '.join(RETRY_WHEN)}, got '{text}'")
    return {
        "max": reader.integer(fields.get("max"), 0, 0, MAX_RETRY),
        "when": when if "when" in fields else list(RETRY_WHEN),
    }


def _entries(
    reader: Reader,
    template: dict,
    matrix: MatrixSpec,
    name: str,
    name_node: YNode,
    runs_on: RunsOn,
    contexts: dict,
) -> list[dict]:
    template["runs_on"]["pool"] = runs_on.pool
    if matrix.combinations is None:
        deferred = matrix.deferred is not None
        template["name"] = (
            name
            if deferred and "matrix" in _mentions(name)
            else _name(reader, name, None, name_node, contexts)
        )
        template["runs_on"]["labels"] = _labels(reader, runs_on, None, contexts, keep_matrix=deferred)
        return [template]
    return [
        {
            **template,
            "key": f"{template['id']}.{number}",
            "matrix": combination,
            "name": _name(reader, name, combination, name_node, contexts),
            "runs_on": {
                "labels": _labels(reader, runs_on, combination, contexts, keep_matrix=False),
                "pool": runs_on.pool,
            },
        }
        for number, combination in enumerate(matrix.combinations)
    ]


def _mentions(text: str) -> frozenset[str]:
    return template_contexts(text) if is_valid_template(text) else frozenset()


def _name(reader: Reader, name: str, combination: dict | None, node: YNode, contexts: dict) -> str:
    if not is_valid_template(name):
        return name
    try:
        return render_job_name(name, combination, contexts)
    except ExpressionError as error:
        reader.report(node, f"cannot render the job name: {error}")
        return name


def _labels(
    reader: Reader, runs_on: RunsOn, combination: dict | None, contexts: dict, keep_matrix: bool
) -> list[str]:
    labels: list[str] = []
    for label, node in runs_on.labels:
        if not is_valid_template(label) or (keep_matrix and "matrix" in _mentions(label)):
            labels.append(label)
            continue
        try:
            rendered = render_labels([label], combination, contexts)
        except ExpressionError as error:
            reader.report(node, f"cannot render runs-on: {error}")
            continue
        if not all(rendered):
            reader.report(
                node, f"runs-on label '{label}' is empty" + (" once rendered" if "${{" in label else "")
            )
        labels.extend(item for item in rendered if item)
    return labels


def read_runs_on(reader: Reader, node: YNode | None) -> RunsOn:
    """`runs-on`: a label, a list of labels, or {pool, labels}; expressions may read only the
    contexts known when the build starts."""
    if node is None:
        return RunsOn()
    if isinstance(node, YMap):
        fields = reader.mapping(node, RUNS_ON) or {}
        runs_on = RunsOn(
            _label_nodes(reader, fields.get("labels")), read_template(reader, fields.get("pool"))
        )
        if runs_on.pool is not None and "${{" in runs_on.pool:
            reader.report(fields["pool"], "runs-on pool must be a node group name, not an expression")
        return runs_on
    if isinstance(node, YScalar | YSeq) and not (isinstance(node, YScalar) and node.value is None):
        return RunsOn(_label_nodes(reader, node))
    reader.report(
        node, f"runs-on must be a label, a list of labels or {{pool, labels}}, got {describe(node)}"
    )
    return RunsOn()


def _label_nodes(reader: Reader, node: YNode | None) -> list[tuple[str, YNode]]:
    labels = []
    for item in reader.items(node):
        label = read_template(reader, item)
        if label is None:
            continue
        if "${{" in label and not _static_label(label):
            reader.report(item, f"runs-on can use only the {RUNS_ON_CONTEXTS} contexts")
            continue
        labels.append((label, item))
    return labels


def _static_label(label: str) -> bool:
    return not is_valid_template(label) or is_static(label)
