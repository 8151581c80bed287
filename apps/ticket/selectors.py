"""Reads of credentials, their events and uses: always through a project the caller is a member of.
Nothing here decrypts a value."""

from django.db.models import Count, QuerySet

from apps.core.errors import NotFound
from apps.core.models import Project
from apps.core.selectors import project_get_for_user
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
