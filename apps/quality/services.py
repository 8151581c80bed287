"""Writes of the quality app for gate checks: record an evaluation, expire a block, override it.

The engine (apps.process.engine.gates) decides; these functions only persist what it decided,
and `gate_override` records a gatekeeper's decision for the engine to read on its next advance.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from apps.core.errors import Conflict, PermissionDenied
from apps.quality.choices import GateResult
from apps.quality.models import GateCheck


def gate_checks_record(
    *,
    build_id: int,
    attempt: int,
    stage_index: int,
    point: str,
    verdicts,
    outcome: str,
    deadline: datetime | None,
) -> list[GateCheck]:
    """One GateCheck per gate evaluated at a control point (see apps.process.engine.gates)."""
    rows = []
    for verdict in verdicts:
        gate = verdict.gate
        if verdict.passed:
            result = GateResult.PASSED
        else:
            result = GateResult.BLOCKED if outcome == "blocked" else GateResult.FAILED
        rows.append(
            GateCheck(
                build_id=build_id,
                build_attempt=attempt,
                stage_index=stage_index,
                control_point=point,
                rule_id=gate.get("rule_id"),
                gate_name=gate["name"][:100],
                indicators=list(verdict.indicators),
                result=result,
                reason="" if verdict.passed else verdict.reason,
                gatekeepers=list(gate.get("gatekeepers") or []),
                deadline=deadline if result == GateResult.BLOCKED else None,
            )
        )
    return GateCheck.objects.bulk_create(rows)


def gate_blocks_expire(*, build_id: int, attempt: int, stage_index: int) -> None:
    GateCheck.objects.filter(
        build_id=build_id, build_attempt=attempt, stage_index=stage_index, result=GateResult.BLOCKED
    ).update(result=GateResult.TIMED_OUT, decided_at=timezone.now())


def gate_override(*, build, stage_index: int, user, comment: str, may_override) -> int:
    """A gatekeeper lets a blocked stage go on. `may_override(gatekeepers)` says whether `user`
    is one of a gate's gatekeepers (names or roles; an empty list means project maintainers)."""
    comment = (comment or "").strip()
    with transaction.atomic():
        blocked = list(
            GateCheck.objects.select_for_update().filter(
                build=build, build_attempt=build.attempt, stage_index=stage_index, result=GateResult.BLOCKED
            )
        )
        if not blocked:
            raise Conflict("no quality gate of this stage is blocked")
        refused = [check.gate_name for check in blocked if not may_override(check.gatekeepers)]
        if refused:
            raise PermissionDenied(f"you are not a gatekeeper of {', '.join(refused)}")
        ids = [check.id for check in blocked]
        GateCheck.objects.filter(id__in=ids).update(
            result=GateResult.OVERRIDDEN, decided_by=user, comment=comment[:2000], decided_at=timezone.now()
        )
    return len(ids)
