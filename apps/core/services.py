"""Writes to projects and memberships, with the rules on who may make them.

Owners manage every member and may delete the project; maintainers edit the project and manage
members below owner; any member may leave. A project always keeps at least one owner.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction

from apps.core.choices import Role
from apps.core.errors import Conflict, PermissionDenied, ValidationFailed
from apps.core.models import Membership, Project
from apps.core.permissions import require_role
from apps.core.selectors import membership_get


def _full_clean(instance) -> None:
    try:
        instance.full_clean(validate_unique=False, validate_constraints=False)
    except DjangoValidationError as error:
        raise ValidationFailed.from_django(error) from error


@transaction.atomic
def project_create(*, user, slug: str, name: str, description: str = "") -> Project:
    project = Project(slug=slug, name=name, description=description, created_by=user)
    _full_clean(project)
    if Project.objects.filter(slug=slug).exists():
        raise Conflict(
            f"A project with slug {slug!r} already exists.", details={"slug": ["This slug is taken."]}
        )
    try:
        with transaction.atomic():
            project.save()
    except IntegrityError as error:
        raise Conflict(f"A project with slug {slug!r} already exists.") from error
    Membership.objects.create(project=project, user=user, role=Role.OWNER)
    return project


@transaction.atomic
def project_update(
    *, project: Project, user, name: str | None = None, description: str | None = None
) -> Project:
    require_role(user, project, Role.MAINTAINER)
    if name is not None:
        project.name = name
    if description is not None:
        project.description = description
    _full_clean(project)
    project.save(update_fields=["name", "description"])
    return project


@transaction.atomic
def project_delete(*, project: Project, user) -> None:
    require_role(user, project, Role.OWNER)
    project.delete()


def _check_can_manage(actor: Role, *, current: Role | None, new: Role | None) -> None:
    if actor < Role.MAINTAINER:
        raise PermissionDenied("Only owners and maintainers manage members.")
    if actor < Role.OWNER and Role.OWNER in (current, new):
        raise PermissionDenied("Only an owner can grant, change or remove the owner role.")


def _check_keeps_an_owner(membership: Membership) -> None:
    owners = Membership.objects.select_for_update().filter(project=membership.project, role=Role.OWNER)
    if membership.role == Role.OWNER and owners.count() <= 1:
        raise Conflict("A project must keep at least one owner.")


@transaction.atomic
def member_add(*, project: Project, user, username: str, role: Role) -> Membership:
    role = Role(role)
    _check_can_manage(require_role(user, project, Role.VIEWER), current=None, new=role)
    member = get_user_model().objects.filter(username=username).first()
    if member is None:
        raise ValidationFailed(
            f"There is no user called {username!r}.", details={"username": ["Unknown user."]}
        )
    if Membership.objects.filter(project=project, user=member).exists():
        raise Conflict(f"{username} is already a member of {project.slug}.")
    return Membership.objects.create(project=project, user=member, role=role)


@transaction.atomic
def member_change_role(*, project: Project, user, username: str, role: Role) -> Membership:
    role = Role(role)
    actor = require_role(user, project, Role.VIEWER)
    membership = membership_get(project, username)
    _check_can_manage(actor, current=Role(membership.role), new=role)
    if role != Role.OWNER:
        _check_keeps_an_owner(membership)
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def member_remove(*, project: Project, user, username: str) -> None:
    actor = require_role(user, project, Role.VIEWER)
    membership = membership_get(project, username)
    if membership.user_id != user.pk:
        _check_can_manage(actor, current=Role(membership.role), new=None)
    _check_keeps_an_owner(membership)
    membership.delete()
