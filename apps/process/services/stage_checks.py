"""Stage reviews and quality gates on the persistence side: what the engine reads about them,
what it writes when it decides, and a reviewer's approve / reject.

The engine's decisions (apps.process.engine.decisions) ask for a review (`ReviewRequested`),
time it out (`ReviewExpired`), record gate verdicts (`GateChecked`) and time a block out
(`GateExpired`). A reviewer's decision or a gatekeeper's override is written here (or in
apps.quality.services) and followed by a build advance, which moves the stage on.
"""

from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone

from apps.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from apps.core.permissions import user_listed
from apps.process import engine
from apps.process.choices import Status
from apps.process.engine.contexts import Lazy, LazyList
from apps.process.engine.states import GateBlock, ReviewState
from apps.process.language.inputs import coerce_input
from apps.process.models import Build, StageReview
from apps.process.models.review import ReviewStatus
from apps.process.services.events import emit_build_advance
from apps.process.services.plan_cache import build_with_plan
from apps.quality import selectors as quality_selectors
from apps.quality import services as quality_services

DECIDED = {ReviewStatus.APPROVED: engine.states.APPROVED, ReviewStatus.REJECTED: engine.states.REJECTED}


def moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def stage_checks_state(build: Build) -> dict:
    """The `reviews`, `blocks`, `metrics` and `rules` fields of the build's engine state. A stage
    that waits makes its build wait too, so the build's status says which rows are worth reading."""
    reviews = stage_reviews(build) if build.status == Status.WAITING_REVIEW else {}
    blocks = stage_blocks(build) if build.status == Status.BLOCKED else {}
    project_id, pipeline_id = build.pipeline.project_id, build.pipeline_id
    return {
        "reviews": reviews,
        "blocks": blocks,
        "metrics": Lazy(lambda: quality_selectors.build_metrics(build.id)),
        "rules": LazyList(
            lambda: quality_selectors.pipeline_rules(project_id=project_id, pipeline_id=pipeline_id)
        ),
    }


def stage_reviews(build: Build) -> dict[int, ReviewState]:
    rows = StageReview.objects.filter(build=build, build_attempt=build.attempt).select_related("decided_by")
    return {
        row.stage_index: ReviewState(
            DECIDED.get(row.status, engine.states.WAITING), row.deadline.timestamp(), review_reason(row)
        )
        for row in rows
    }


def stage_blocks(build: Build) -> dict[int, GateBlock]:
    found = quality_selectors.stage_blocks(build_id=build.id, attempt=build.attempt)
    return {
        index: GateBlock(
            block["point"], (block["deadline"] or timezone.now()).timestamp(), block["overridden"]
        )
        for index, block in found.items()
    }


def review_reason(row: StageReview) -> str:
    if row.status != ReviewStatus.REJECTED:
        return ""
    who = row.decided_by.username if row.decided_by else "a reviewer"
    return f"the review was rejected by {who}" + (f": {row.comment}" if row.comment else "")


# written by the engine's ChangeWriter


def review_request(build: Build, change: engine.ReviewRequested) -> None:
    StageReview.objects.update_or_create(
        build=build,
        build_attempt=build.attempt,
        stage_index=change.stage_index,
        defaults={
            "reviewers": list(change.reviewers),
            "description": change.description,
            "inputs": change.inputs,
            "status": ReviewStatus.WAITING,
            "deadline": moment(change.deadline),
            "values": {},
            "comment": "",
            "decided_by": None,
            "decided_at": None,
        },
    )


def review_expire(build: Build, change: engine.ReviewExpired) -> None:
    StageReview.objects.filter(
        build=build, build_attempt=build.attempt, stage_index=change.stage_index, status=ReviewStatus.WAITING
    ).update(status=ReviewStatus.TIMED_OUT, decided_at=timezone.now())


def gates_record(build: Build, change: engine.GateChecked) -> None:
    quality_services.gate_checks_record(
        build_id=build.id,
        attempt=build.attempt,
        stage_index=change.stage_index,
        point=change.point,
        verdicts=change.verdicts,
        outcome=change.outcome,
        deadline=moment(change.deadline) if change.deadline else None,
    )


def gates_expire(build: Build, change: engine.GateExpired) -> None:
    quality_services.gate_blocks_expire(
        build_id=build.id, attempt=build.attempt, stage_index=change.stage_index
    )


# a person's decision


def stage_check(build: Build, stage_index: int) -> None:
    if not 0 <= stage_index < len(build_with_plan(build).plan["stages"]):
        raise NotFound(f"build #{build.number} has no stage {stage_index}")


def review_decide(
    *,
    build: Build,
    stage_index: int,
    user,
    approve: bool,
    comment: str = "",
    values: dict | None = None,
    any_reviewer: bool = False,
) -> StageReview:
    """Approve (with the review's input values, which become build variables) or reject."""
    stage_check(build, stage_index)
    with transaction.atomic():
        review = (
            StageReview.objects.select_for_update()
            .filter(build=build, build_attempt=build.attempt, stage_index=stage_index)
            .first()
        )
        if review is None or review.status != ReviewStatus.WAITING:
            raise Conflict("this stage is not waiting for review")
        if not any_reviewer and not user_listed(user, build.pipeline.project, review.reviewers):
            raise PermissionDenied("you are not one of this stage's reviewers")
        checked = review_values(review.inputs, values or {}) if approve else {}
        review.status = ReviewStatus.APPROVED if approve else ReviewStatus.REJECTED
        review.values, review.comment = checked, (comment or "").strip()[:2000]
        review.decided_by, review.decided_at = user, timezone.now()
        review.save()
        if checked:
            locked = Build.objects.select_for_update().get(id=build.id)
            locked.variables = {
                **locked.variables,
                **{name: variable_text(value) for name, value in checked.items()},
            }
            locked.save(update_fields=["variables"])
        emit_build_advance(build.id)
    return review


def reviews_approve_all(*, build: Build, user) -> None:
    """Approve the build's waiting reviews as `user`, listed or not (`pipeline run --approve`)."""
    waiting = StageReview.objects.filter(
        build=build, build_attempt=build.attempt, status=ReviewStatus.WAITING
    )
    for stage_index in waiting.values_list("stage_index", flat=True):
        review_decide(
            build=build,
            stage_index=stage_index,
            user=user,
            approve=True,
            comment="pipeline run --approve",
            any_reviewer=True,
        )


def variable_text(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def review_values(inputs: dict, given: dict) -> dict:
    """The reviewer's values checked against the review's `inputs`, defaults filled in."""
    unknown = sorted(set(given) - set(inputs))
    problems = {name: "is not an input of this review" for name in unknown}
    values = {}
    for name, spec in inputs.items():
        if given.get(name) is not None:
            value, problem = coerce_input(spec, given[name])
        elif spec.get("default") is not None:
            value, problem = spec["default"], None
        else:
            value, problem = "", "is required" if spec.get("required") else None
        if problem:
            problems[name] = problem
        values[name] = value
    if problems:
        raise ValidationFailed("the review's inputs are not valid", details=problems)
    return values


def overdue_build_ids(now) -> set[int]:
    """Builds whose review or blocked gate is past its deadline: the sweep moves them on."""
    reviews = StageReview.objects.filter(
        status=ReviewStatus.WAITING, deadline__lte=now, build__status=Status.WAITING_REVIEW
    )
    return set(reviews.values_list("build_id", flat=True)) | quality_selectors.overdue_block_build_ids(now)


def gate_override(*, build: Build, stage_index: int, user, comment: str) -> int:
    """A gatekeeper lets the blocked gates of a stage through (a comment is required)."""
    if not (comment or "").strip():
        raise ValidationFailed("say why the gate may be let through", details={"comment": "is required"})
    stage_check(build, stage_index)
    project = build.pipeline.project
    with transaction.atomic():
        overridden = quality_services.gate_override(
            build=build,
            stage_index=stage_index,
            user=user,
            comment=comment,
            may_override=lambda gatekeepers: user_listed(user, project, gatekeepers),
        )
        emit_build_advance(build.id)
    return overridden
