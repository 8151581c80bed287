"""Writes to pipelines: create, edit (a new immutable version when the YAML changes), archive.

Every YAML is checked by the pipeline language first: a body over PIPELINE_MAX_BYTES is refused
with PayloadTooLarge, and any problem refuses the write with ValidationFailed whose details carry
every problem as {"path", "line", "column", "message"}.
"""

import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.text import slugify

from apps.core.choices import Role
from apps.core.errors import Conflict, PayloadTooLarge, ValidationFailed
from apps.core.permissions import require_role
from apps.process.language import validate
from apps.process.models import Pipeline, PipelineVersion
from apps.process.services.schedules import schedules_sync


def yaml_sha256(yaml: str) -> str:
    return hashlib.sha256(yaml.encode("utf-8")).hexdigest()


def pipeline_yaml_check(*, yaml: str) -> list[dict]:
    size = len(yaml.encode("utf-8"))
    limit = settings.PIPELINE_MAX_BYTES
    if size > limit:
        raise PayloadTooLarge(
            f"The pipeline YAML is {size} bytes; the limit is {limit} bytes.",
            details={"size": size, "limit": limit},
        )
    return [
        {"path": problem.path, "line": problem.line, "column": problem.column, "message": problem.message}
        for problem in validate(yaml)
    ]


def _require_valid_yaml(yaml: str) -> None:
    problems = pipeline_yaml_check(yaml=yaml)
    if problems:
        count = len(problems)
        raise ValidationFailed(
            f"The pipeline YAML has {count} problem{'s' if count > 1 else ''}.",
            details={"problems": problems},
        )


def _full_clean(pipeline: Pipeline) -> None:
    try:
        pipeline.full_clean(
            exclude=["project", "current_version"], validate_unique=False, validate_constraints=False
        )
    except DjangoValidationError as error:
        raise ValidationFailed.from_django(error) from error


def _free_slug(project, name: str) -> str:
    base = slugify(name)[:56].strip("-") or "pipeline"
    if len(base) < 2:
        base = f"pipeline-{base}"
    taken = set(
        Pipeline.objects.filter(project=project, slug__startswith=base).values_list("slug", flat=True)
    )
    slug, counter = base, 2
    while slug in taken:
        slug, counter = f"{base}-{counter}", counter + 1
    return slug


def _version_save(*, pipeline: Pipeline, user, yaml: str, message: str) -> PipelineVersion:
    locked = Pipeline.objects.select_for_update(of=("self",)).select_related("current_version")
    pipeline = locked.get(pk=pipeline.pk)
    digest = yaml_sha256(yaml)
    current = pipeline.current_version
    if current is not None and current.sha256 == digest and current.yaml == yaml:
        return current
    number = (pipeline.versions.aggregate(highest=Max("number"))["highest"] or 0) + 1
    version = PipelineVersion.objects.create(
        pipeline=pipeline, number=number, yaml=yaml, sha256=digest, message=message, created_by=user
    )
    Pipeline.objects.filter(pk=pipeline.pk).update(current_version=version, updated_at=version.created_at)
    schedules_sync(pipeline_id=pipeline.pk)
    return version


@transaction.atomic
def pipeline_create(
    *, project, user, name: str, yaml: str, slug: str | None = None, description: str = "", message: str = ""
) -> Pipeline:
    require_role(user, project, Role.DEVELOPER)
    pipeline = Pipeline(
        project=project,
        name=name,
        description=description,
        created_by=user,
        slug=slug if slug else _free_slug(project, name),
    )
    _full_clean(pipeline)
    _require_valid_yaml(yaml)
    if Pipeline.objects.filter(project=project, slug=pipeline.slug).exists():
        raise Conflict(
            f"A pipeline with slug {pipeline.slug!r} already exists in {project.slug}.",
            details={"slug": ["This slug is taken."]},
        )
    try:
        with transaction.atomic():
            pipeline.save()
    except IntegrityError as error:
        raise Conflict(f"A pipeline with slug {pipeline.slug!r} already exists in {project.slug}.") from error
    pipeline.current_version = _version_save(pipeline=pipeline, user=user, yaml=yaml, message=message)
    pipeline.refresh_from_db()
    return pipeline


def _require_editable(pipeline: Pipeline, user) -> None:
    require_role(user, pipeline.project, Role.DEVELOPER)
    if pipeline.is_archived:
        raise Conflict("The pipeline is archived; restore it before editing.")


@transaction.atomic
def pipeline_version_create(*, pipeline: Pipeline, user, yaml: str, message: str = "") -> PipelineVersion:
    _require_editable(pipeline, user)
    _require_valid_yaml(yaml)
    return _version_save(pipeline=pipeline, user=user, yaml=yaml, message=message)


@transaction.atomic
def pipeline_update(
    *,
    pipeline: Pipeline,
    user,
    name: str | None = None,
    description: str | None = None,
    yaml: str | None = None,
    message: str = "",
) -> Pipeline:
    _require_editable(pipeline, user)
    if name is not None:
        pipeline.name = name
    if description is not None:
        pipeline.description = description
    _full_clean(pipeline)
    if yaml is not None:
        _require_valid_yaml(yaml)
    pipeline.save(update_fields=["name", "description", "updated_at"])
    if yaml is not None:
        _version_save(pipeline=pipeline, user=user, yaml=yaml, message=message)
    pipeline.refresh_from_db()
    return pipeline


def _set_archived(pipeline: Pipeline, user, archived: bool) -> Pipeline:
    require_role(user, pipeline.project, Role.DEVELOPER)
    pipeline.is_archived = archived
    pipeline.save(update_fields=["is_archived", "updated_at"])
    schedules_sync(pipeline_id=pipeline.pk)
    return pipeline


@transaction.atomic
def pipeline_archive(*, pipeline: Pipeline, user) -> Pipeline:
    return _set_archived(pipeline, user, True)


@transaction.atomic
def pipeline_restore(*, pipeline: Pipeline, user) -> Pipeline:
    return _set_archived(pipeline, user, False)
