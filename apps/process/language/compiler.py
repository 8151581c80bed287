"""The compiler: pipeline YAML -> every problem, or a Plan (see docs/plan-format.md).

One pass reads the whole pipeline, reporting each problem as it goes and building the Plan beside;
`validate` keeps the problems, `compile_pipeline` keeps the Plan when there are none.

The positioned tree and the Plan hold no reference cycles, so Python's cycle collector can only
spend time walking them while they grow: a quarter of the time of a 500 KB pipeline, half of it at
2 MB (the cost grows faster than the file). It is paused while one pipeline is analysed, and turned
back on afterwards if it was on; anything else that leaves garbage cycles meanwhile (the collector is
process-wide) has them collected then. Memory is still freed as usual, by reference counting.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from .checks import read_condition, read_flag_or_condition, read_template, read_template_map, read_templates
from .contexts import static_contexts
from .graph import check_needs
from .inputs import resolve_inputs
from .jobs import JOB_ID, JobDraft, read_job
from .plan import PLAN_FORMAT_VERSION
from .problems import PipelineError, Problem, sorted_problems
from .schema import CONCURRENCY, NOTICE, PIPELINE, STAGE, Reader, key_of, scalar_text, suggest
from .stage_checks import read_check
from .steps import RunDefaults, read_run_defaults
from .triggers import TriggerEvent, read_triggers
from .yaml_source import YEntry, YMap, YNode, YScalar, YSeq, describe, load_source

VERSIONS = ("v3.0", "3.0", "v3", "3")
NOTICE_TYPES = ("email", "webhook", "slack", "wecom")
RESERVED_STAGE_IDS = ("default", "finally")
AUTOMATIC_EVENTS = ("push", "pull_request", "mr", "tag", "schedule")


def validate(text: str | bytes, *, filename: str = "pipeline.yml") -> list[Problem]:
    """Every problem in a pipeline, in file order; never raises."""
    try:
        return analyse(text, filename=filename)[1]
    except RecursionError:
        return [Problem("", 1, 1, "pipeline is nested too deeply to read")]


def compile_pipeline(
    text: str | bytes,
    *,
    filename: str = "pipeline.yml",
    trigger: TriggerEvent | None = None,
    inputs: dict | None = None,
    variables: dict | None = None,
) -> dict:
    """The Plan of a pipeline for one build; raises PipelineError with every problem."""
    try:
        plan, problems = analyse(text, filename=filename, trigger=trigger, inputs=inputs, variables=variables)
    except RecursionError:
        raise PipelineError([Problem("", 1, 1, "pipeline is nested too deeply to read")], filename) from None
    if problems or plan is None:
        raise PipelineError(problems, filename)
    return plan


def analyse(
    text: str | bytes,
    *,
    filename: str = "pipeline.yml",
    trigger: TriggerEvent | None = None,
    inputs: dict | None = None,
    variables: dict | None = None,
) -> tuple[dict | None, list[Problem]]:
    with _cycle_collector_paused():
        root, problems = load_source(text)
        if root is None:
            return None, problems
        reader = Reader()
        reader.problems.extend(problems)
        plan = _Compiler(reader, filename, trigger, inputs, variables).pipeline(root)
        return plan, sorted_problems(reader.problems)


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@dataclass
class _Stage:
    """A stage as read before its jobs are compiled."""

    index: int
    id: str
    name: str
    node: YNode
    fields: dict[str, YNode]
    jobs: list[YEntry] = field(default_factory=list)
    is_finally: bool = False


class _Compiler:
    def __init__(
        self,
        reader: Reader,
        filename: str,
        trigger: TriggerEvent | None,
        inputs: dict | None,
        variables: dict | None,
    ):
        self.reader = reader
        self.filename = filename
        self.trigger = trigger or TriggerEvent()
        self.started_by_hand = trigger is None or trigger.event not in AUTOMATIC_EVENTS
        self.given_inputs = inputs
        self.given_variables = variables or {}

    def pipeline(self, root: YNode) -> dict | None:
        reader = self.reader
        if not isinstance(root, YMap):
            reader.report(
                root, f"a pipeline must be a mapping with keys such as 'on' and 'jobs', got {describe(root)}"
            )
            return None
        fields = reader.mapping(root, PIPELINE) or {}
        self._check_version(fields.get("version"))
        name = read_template(reader, fields.get("name")) or _stem(self.filename)
        triggers, declared = read_triggers(reader, fields.get("on"))
        input_values = resolve_inputs(
            reader, declared, self.given_inputs, enforce_required=self.started_by_hand
        )
        variables = read_template_map(reader, fields.get("variables"), "variables")
        variables.update({str(key): scalar_text(value) for key, value in self.given_variables.items()})
        env = {**variables, **read_template_map(reader, fields.get("env"), "env")}
        contexts = static_contexts(
            trigger=self.trigger, inputs=input_values, variables=variables, pipeline_name=name
        )
        defaults = read_run_defaults(reader, fields.get("defaults"))
        stages = self._read_stages(root, fields)
        return {
            "format": PLAN_FORMAT_VERSION,
            "name": name,
            "run_name": read_template(reader, fields.get("run-name")),
            "env": env,
            "variables": variables,
            "defaults": {"run": {"shell": defaults.shell, "working-directory": defaults.working_directory}},
            "concurrency": self._concurrency(fields.get("concurrency")),
            "triggers": triggers,
            "inputs": declared.spec,
            "input_values": input_values,
            "notices": self._notices(fields.get("notices")),
            "stages": self._compile_stages(stages, contexts, defaults),
        }

    def _check_version(self, node: YNode | None) -> None:
        version = self.reader.text(node)
        if node is not None and version is not None and version not in VERSIONS:
            self.reader.report(node, f"unsupported version '{version}' (this server reads v3.0)")

    def _read_stages(self, root: YMap, fields: dict[str, YNode]) -> list[_Stage]:
        reader = self.reader
        stages: list[_Stage] = []
        if "stages" in fields and "jobs" in fields:
            reader.report(fields["jobs"], "use either 'stages' or top-level 'jobs', not both")
        if "stages" in fields:
            node = fields["stages"]
            if not isinstance(node, YSeq):
                reader.report(node, f"stages must be a list of stages, got {describe(node)}")
            elif not node.items:
                reader.report(node, "stages must list at least one stage")
            else:
                stages = [self._read_stage(index, item) for index, item in enumerate(node.items)]
                self._assign_stage_ids(stages)
        elif "jobs" in fields:
            stages = [_Stage(0, "default", "default", fields["jobs"], {}, self._job_entries(fields["jobs"]))]
        else:
            reader.report(root, "pipeline has no jobs: add 'jobs:' (or 'stages:')")
        if "finally" in fields:
            node = fields["finally"]
            stages.append(_Stage(len(stages), "finally", "finally", node, {}, self._job_entries(node), True))
        return stages

    def _job_entries(self, node: YNode) -> list[YEntry]:
        entries = self.reader.entries(node, "jobs")
        if not entries and (isinstance(node, YMap) or (isinstance(node, YScalar) and node.value is None)):
            self.reader.report(node, f"{key_of(node)} must name at least one job")
        return entries

    def _read_stage(self, index: int, node: YNode) -> _Stage:
        fields = self.reader.mapping(node, STAGE) or {}
        name = read_template(self.reader, fields.get("name"))
        jobs = self._job_entries(fields["jobs"]) if "jobs" in fields else []
        return _Stage(index, "", name or "", node, fields, jobs)

    def _assign_stage_ids(self, stages: list[_Stage]) -> None:
        used: set[str] = set()
        for stage in stages:
            node = stage.fields.get("id")
            wanted = self.reader.text(node)
            if wanted is not None and not JOB_ID.match(wanted):
                self.reader.report(node, f"stage id '{wanted}' must match ^[A-Za-z_][A-Za-z0-9_-]*$")
            elif wanted in RESERVED_STAGE_IDS:
                self.reader.report(node, f"stage id '{wanted}' is reserved")
            elif wanted in used:
                self.reader.report(node, f"stage id '{wanted}' is already used")
            elif wanted is not None:
                stage.id = wanted
            if not stage.id:
                stage.id = _unique(_slug(stage.name) or f"stage-{stage.index + 1}", used)
            used.add(stage.id)
            stage.name = stage.name or stage.id

    def _compile_stages(self, stages: list[_Stage], contexts: dict, defaults: RunDefaults) -> list[dict]:
        owners = self._check_job_ids(stages)
        stage_of = {job: stage.name for job, stage in owners.items()}
        compiled = []
        for stage in stages:
            drafts = [
                read_job(self.reader, entry.key, entry.value, contexts, defaults)
                for entry in stage.jobs
                if owners.get(entry.key) is stage
            ]
            compiled.append(self._stage(stage, drafts, stage_of))
        return compiled

    def _check_job_ids(self, stages: list[_Stage]) -> dict[str, _Stage]:
        """The stage of each job id, reporting ids that are malformed or used twice."""
        owners: dict[str, _Stage] = {}
        for stage in stages:
            for entry in stage.jobs:
                if not JOB_ID.match(entry.key):
                    self.reader.report_key(
                        entry, f"job id '{entry.key}' must match ^[A-Za-z_][A-Za-z0-9_-]*$"
                    )
                elif entry.key in owners:
                    where = owners[entry.key].name
                    self.reader.report_key(
                        entry,
                        f"job id '{entry.key}' is already used in stage '{where}'; "
                        "job ids are unique across the pipeline",
                    )
                else:
                    owners[entry.key] = stage
        return owners

    def _stage(self, stage: _Stage, drafts: list[JobDraft], stage_of: dict[str, str]) -> dict:
        reader = self.reader
        needs = check_needs(reader, {draft.id: draft.needs for draft in drafts}, stage_of)
        jobs = []
        for draft in drafts:
            for entry in draft.entries:
                entry["needs"] = needs[draft.id]
                jobs.append(entry)
        return {
            "index": stage.index,
            "id": stage.id,
            "name": stage.name,
            "finally": stage.is_finally,
            "if": read_condition(reader, stage.fields.get("if")),
            "fast_kill": reader.boolean(stage.fields.get("fast-kill"), False),
            "check_in": read_check(reader, stage.fields.get("check-in")),
            "check_out": read_check(reader, stage.fields.get("check-out")),
            "jobs": jobs,
        }

    def _concurrency(self, node: YNode | None) -> dict | None:
        if node is None:
            return None
        if isinstance(node, YScalar) and isinstance(node.value, str):
            return {
                "group": read_template(self.reader, node),
                "cancel_in_progress": False,
                "queue_length": None,
            }
        fields = self.reader.mapping(node, CONCURRENCY)
        if fields is None:
            return None
        return {
            "group": read_template(self.reader, fields.get("group"), ""),
            "cancel_in_progress": read_flag_or_condition(
                self.reader, fields.get("cancel-in-progress"), False
            ),
            "queue_length": self.reader.integer(fields.get("queue-length"), None, 0),
        }

    def _notices(self, node: YNode | None) -> list[dict]:
        if node is None:
            return []
        items = node.items if isinstance(node, YSeq) else None
        if items is None:
            self.reader.report(node, f"notices must be a list, got {describe(node)}")
            return []
        return [notice for notice in (self._notice(item) for item in items) if notice]

    def _notice(self, node: YNode) -> dict | None:
        fields = self.reader.mapping(node, NOTICE)
        if fields is None:
            return None
        types = []
        for item in self.reader.items(fields.get("type")):
            kind = self.reader.text(item)
            if kind is not None and kind not in NOTICE_TYPES:
                known = ", ".join(NOTICE_TYPES)
                self.reader.report(
                    item, f"unknown notice type '{kind}' (use {known}){suggest(kind, NOTICE_TYPES)}"
                )
            elif kind is not None:
                types.append(kind)
        return {
            "type": types,
            "receivers": read_templates(self.reader, fields.get("receivers")),
            "title": read_template(self.reader, fields.get("title")),
            "content": read_template(self.reader, fields.get("content")),
            "if": read_condition(self.reader, fields.get("if")) or "always()",
        }


def _stem(filename: str) -> str:
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[0] if "." in base.lstrip(".") else base


def _slug(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_]+", "-", name).strip("-").lower()
    return slug if JOB_ID.match(slug) and slug not in RESERVED_STAGE_IDS else ""


def _unique(wanted: str, used: set[str]) -> str:
    candidate, number = wanted, 2
    while candidate in used or candidate in RESERVED_STAGE_IDS:
        candidate, number = f"{wanted}-{number}", number + 1
    return candidate
