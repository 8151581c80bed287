"""Reads of the quality app: a build's metrics, the rules that apply to a pipeline, gate checks."""

from apps.quality.choices import GateResult
from apps.quality.models import GateCheck, Metric, QualityRule


def build_metrics(build_id: int) -> dict:
    """Every metric of a build by name: the value reported last wins (by any job or report)."""
    rows = Metric.objects.filter(build_id=build_id).order_by("reported_at", "id").values_list("name", "value")
    return dict(rows)


def job_metrics(build_id: int) -> dict[int | None, dict]:
    """Metrics of a build by job row id (None for values posted for the whole build)."""
    found: dict[int | None, dict] = {}
    rows = Metric.objects.filter(build_id=build_id).order_by("name").values_list("job_id", "name", "value")
    for job_id, name, value in rows:
        found.setdefault(job_id, {})[name] = value
    return found


def rule_as_gate(rule: QualityRule) -> dict:
    """A rule in the shape the engine's gate decisions read (see apps.process.engine.gates)."""
    return {
        "name": rule.name,
        "rule_id": rule.id,
        "control_point": rule.control_point,
        "stage": rule.stage,
        "gate": rule.gate,
        "indicators": list(rule.indicators),
        "action": rule.action,
        "gatekeepers": list(rule.gatekeepers),
        "timeout_minutes": rule.timeout_minutes,
    }


def pipeline_rules(*, project_id: int, pipeline_id: int) -> list[dict]:
    """The enabled rules of a project that apply to a pipeline (a rule with no pipelines: all)."""
    rules = QualityRule.objects.filter(project_id=project_id, enabled=True).prefetch_related("pipelines")
    return [
        rule_as_gate(rule)
        for rule in rules
        if not rule.pipelines.all() or any(p.id == pipeline_id for p in rule.pipelines.all())
    ]


def build_gate_checks(build_id: int, attempt: int | None = None):
    checks = GateCheck.objects.filter(build_id=build_id).select_related("rule", "decided_by")
    return checks.filter(build_attempt=attempt) if attempt is not None else checks


def overdue_block_build_ids(now) -> set[int]:
    """Builds with a blocked gate past its deadline: the sweep moves them on (to fail)."""
    blocked = GateCheck.objects.filter(result=GateResult.BLOCKED, deadline__lte=now, build__status="blocked")
    return set(blocked.values_list("build_id", flat=True))


def stage_blocks(*, build_id: int, attempt: int) -> dict[int, dict]:
    """The blocked (or overridden) control point of each stage: point, deadline, overridden."""
    blocks: dict[int, dict] = {}
    rows = GateCheck.objects.filter(
        build_id=build_id, build_attempt=attempt, result__in=(GateResult.BLOCKED, GateResult.OVERRIDDEN)
    ).values_list("stage_index", "control_point", "deadline", "result")
    for stage_index, point, deadline, result in rows:
        block = blocks.setdefault(stage_index, {"point": point, "deadline": deadline, "overridden": True})
        if deadline and (block["deadline"] is None or deadline < block["deadline"]):
            block["deadline"] = deadline
        block["overridden"] = block["overridden"] and result == GateResult.OVERRIDDEN
    return blocks


def blocked_gatekeepers(*, build_id: int, attempt: int, stage_index: int) -> list[str]:
    """Who may override the blocked gates of a stage (names, `role:<role>`); [] means maintainers."""
    checks = GateCheck.objects.filter(
        build_id=build_id, build_attempt=attempt, stage_index=stage_index, result=GateResult.BLOCKED
    )
    keepers: list[str] = []
    for gatekeepers in checks.values_list("gatekeepers", flat=True):
        if not gatekeepers:
            return []
        keepers.extend(name for name in gatekeepers if name not in keepers)
    return keepers
