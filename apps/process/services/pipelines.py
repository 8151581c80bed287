"""Writes to pipelines: create, edit (a new immutable version when the YAML changes), archive.

Every YAML is checked by the pipeline language first: a body over PIPELINE_MAX_BYTES is refused
with PayloadTooLarge, and any problem refuses the write with ValidationFailed whose details carry
every problem as {"path", "line", "column", "message"}.
"""

import hashlib
import re
from urllib.parse import urlsplit

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
from apps.ticket.choices import CHECKOUT_TYPES, CredentialType
from apps.ticket.selectors import credential_usable_type

SCP_LIKE_URL = re.compile(r"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:\S+$")  # git@host:owner/repo.git
URL_SCHEMES = ("https", "http", "ssh", "git")


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
    *,
    project,
    user,
    name: str,
    yaml: str,
    slug: str | None = None,
    description: str = "",
    message: str = "",
    repository_url: str | None = None,
    repository_credential: str | None = None,
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
    if repository_url is not None or repository_credential is not None:
        pipeline_repository_update(
            pipeline=pipeline, user=user, repository_url=repository_url,
            repository_credential=repository_credential,
        )
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
    repository_url: str | None = None,
    repository_credential: str | None = None,
) -> Pipeline:
    _require_editable(pipeline, user)
    if repository_url is not None or repository_credential is not None:
        pipeline_repository_update(
            pipeline=pipeline, user=user, repository_url=repository_url,
            repository_credential=repository_credential,
        )
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


def repository_key(url: str) -> str:
    """One spelling of a repository's URL: `git@host:o/r.git`, `ssh://git@host/o/r` and
    `https://host/o/r` are the same repository."""
    url = url.strip().lower().removesuffix("/").removesuffix(".git")
    url = re.sub(r"^[a-z+]+://", "", url)
    url = re.sub(r"^[^@/]*@", "", url)
    return url.replace(":", "/")


def _check_repository_url(url: str) -> str:
    url = url.strip()
    if not url:
        return ""
    problem = None
    if len(url) > 500:
        problem = "Use at most 500 characters."
    elif url.startswith("-") or any(char.isspace() or ord(char) < 32 for char in url):
        problem = "A repository URL has no spaces and does not start with '-'."
    elif SCP_LIKE_URL.match(url):
        return url
    else:
        parts = urlsplit(url)
        if parts.scheme not in URL_SCHEMES or not parts.netloc:
            problem = "Give an https://, http://, ssh:// or git:// URL, or user@host:path."
        elif parts.password is not None:
            problem = "Do not put a password in the URL: name a credential instead."
    if problem:
        raise ValidationFailed(f"'{url[:100]}' is not a repository URL. {problem}",
                               details={"repository_url": [problem]})
    return url


def _check_repository_credential(project_id: int, name: str) -> str:
    name = name.strip()
    if not name:
        return ""
    type = credential_usable_type(project_id=project_id, name=name)
    problem = None
    if type is None:
        problem = f"No credential named {name} in this project or shared with it."
    elif type not in CHECKOUT_TYPES:
        usable = ", ".join(CredentialType(choice).label.lower() for choice in CHECKOUT_TYPES)
        label = CredentialType(type).label.lower()
        problem = f"{name} is a {label} credential; a checkout needs one of: {usable}."
    if problem:
        raise ValidationFailed(problem, details={"repository_credential": [problem]})
    return name


@transaction.atomic
def pipeline_repository_update(
    *, pipeline: Pipeline, user, repository_url: str | None = None, repository_credential: str | None = None
) -> Pipeline:
    """The repository `checkout: self` clones and the credential it uses (maintainers and owners:
    the credential reaches every job that checks the repository out)."""
    url = pipeline.repository_url if repository_url is None else repository_url.strip()
    name = pipeline.repository_credential if repository_credential is None else repository_credential.strip()
    if (url, name) == (pipeline.repository_url, pipeline.repository_credential):
        return pipeline  # unchanged (a developer's PUT of what GET returned): nothing to allow
    require_role(user, pipeline.project, Role.MAINTAINER)
    pipeline.repository_url = _check_repository_url(url)
    pipeline.repository_credential = _check_repository_credential(pipeline.project_id, name)
    pipeline.save(update_fields=["repository_url", "repository_credential", "updated_at"])
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
