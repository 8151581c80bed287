"""Reads behind the Quality pages and API: a project's rules with their last result, one rule, the
gate checks of a rule or of a build, each check with the name of its stage (read from the Plan)."""

from django.db.models import OuterRef, QuerySet, Subquery

from apps.core.errors import NotFound
from apps.core.models import Project
from apps.quality.models import GateCheck, QualityRule
from apps.quality.selectors import build_gate_checks


def rule_list(project: Project) -> QuerySet[QualityRule]:
    """The rules of a project by name, each with `last_result` and `last_checked_at` (None: never)."""
    last = GateCheck.objects.filter(rule=OuterRef("pk")).order_by("-checked_at", "-id")
    return (
        QualityRule.objects.filter(project=project)
        .select_related("project", "created_by")
        .prefetch_related("pipelines")
        .annotate(
            last_result=Subquery(last.values("result")[:1]),
            last_checked_at=Subquery(last.values("checked_at")[:1]),
        )
        .order_by("name", "id")
    )


def rule_get(project: Project, rule_id) -> QualityRule:
    try:
        rule = rule_list(project).filter(pk=int(rule_id)).first()
    except (TypeError, ValueError):
        rule = None
    if rule is None:
        raise NotFound("Quality rule not found.")
    return rule


def rule_checks(rule: QualityRule) -> QuerySet[GateCheck]:
    """Every evaluation of a rule, newest first, with its build and pipeline."""
    return (
        GateCheck.objects.filter(rule=rule)
        .select_related("rule", "decided_by", "build__pipeline__project")
        .order_by("-id")
    )


def build_checks(build) -> QuerySet[GateCheck]:
    """Every gate check of a build (all attempts), in the order they happened."""
    return (
        build_gate_checks(build.id)
        .select_related("build__pipeline__project")
        .order_by("build_attempt", "stage_index", "id")
    )


def stage_name(plan: dict, index: int) -> str:
    """The name of stage `index` in a build's Plan (its id, or `#index` when the Plan lacks it)."""
    for stage in (plan or {}).get("stages") or []:
        if stage.get("index") == index:
            return stage.get("name") or stage.get("id") or f"#{index}"
    return f"#{index}"


def check_stage(check: GateCheck) -> str:
    return stage_name(check.build.plan, check.stage_index)


def with_stage_names(checks) -> list[GateCheck]:
    """The checks as a list, each with `stage_name` set for pages and serializers."""
    rows = list(checks)
    for check in rows:
        check.stage_name = check_stage(check)
    return rows
