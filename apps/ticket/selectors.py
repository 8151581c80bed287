"""Reads of credentials, their events and uses: always through a project the caller is a member of.
Nothing here decrypts a value."""

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When

from apps.core.errors import NotFound
from apps.core.models import Project
from apps.core.selectors import project_get_for_user
from apps.ticket.choices import CHECKOUT_TYPES
from apps.ticket.models import Credential, CredentialEvent, CredentialUse


def credential_list(project: Project) -> QuerySet[Credential]:
    return (
        Credential.objects.filter(project=project)
        .select_related("created_by")
        .prefetch_related("shared_with")
        .annotate(use_count=Count("uses", distinct=True))
        .order_by("name")
    )


def credential_shared_with_project(project: Project) -> QuerySet[Credential]:
    """Credentials other projects share with this one (usable here, managed there)."""
    return Credential.objects.filter(shared_with=project).select_related("project").order_by("name")


def credential_usable_type(*, project_id: int, name: str) -> str | None:
    """The type of the credential `name` a build of the project would receive (its own, else one
    shared with it), or None when there is none."""
    shared = Credential.shared_with.through.objects.filter(project_id=project_id).values("credential_id")
    own_first = Case(
        When(project_id=project_id, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return (
        Credential.objects.filter(Q(project_id=project_id) | Q(id__in=shared), name=name)
        .order_by(own_first, "id")
        .values_list("type", flat=True)
        .first()
    )


def credential_names_for_checkout(project: Project) -> list[str]:
    """Names of the credentials (own, or shared and not hidden by an own one of the same name) a
    checkout of the project's repositories can use."""
    own = dict(Credential.objects.filter(project=project).values_list("name", "type"))
    shared = credential_shared_with_project(project).filter(type__in=CHECKOUT_TYPES)
    names = {name for name, type in own.items() if type in CHECKOUT_TYPES}
    names |= {name for name in shared.values_list("name", flat=True) if name not in own}
    return sorted(names)


def credential_get_for_user(user, slug: str, name: str) -> Credential:
    project = project_get_for_user(user, slug)
    credential = credential_list(project).filter(name=name).first()
    if credential is None:
        raise NotFound(f"No credential named {name} in {project.slug}.")
    return credential


def credential_events(credential: Credential) -> QuerySet[CredentialEvent]:
    return CredentialEvent.objects.filter(credential=credential).select_related("actor")


def credential_uses(credential: Credential) -> QuerySet[CredentialUse]:
    return CredentialUse.objects.filter(credential=credential).select_related(
        "build__pipeline__project", "job"
    )


def project_credential_events(project: Project) -> QuerySet[CredentialEvent]:
    """Every event of the project's credentials, deleted ones included."""
    return CredentialEvent.objects.filter(project=project).select_related("actor")
