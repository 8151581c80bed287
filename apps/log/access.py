"""Who may follow a build's logs live: the websocket's permission check and job lookup, through the
core and process selectors (kept apart from `selectors` so process can import that one)."""

from apps.core.errors import NotFound, PermissionDenied
from apps.core.models import Project
from apps.core.permissions import user_role
from apps.process.models import JobRun
from apps.process.selectors import pipeline_get
from apps.process.selectors_builds import build_get


def build_for_live(*, user, project_slug: str, pipeline_slug: str, number: int) -> int:
    """The build's id; PermissionDenied for anyone not a member (unknown project included),
    NotFound for a member asking for a pipeline or build that does not exist."""
    project = Project.objects.filter(slug=project_slug).first()
    if project is None or user_role(user, project) is None:
        raise PermissionDenied("Not a member of this project.")
    return build_get(pipeline_get(project, pipeline_slug), number).id


def job_for_live(*, build_id: int, key: str, attempt: int | None = None) -> tuple[JobRun, int]:
    job = JobRun.objects.filter(build_id=build_id, key=key).first()
    if job is None:
        raise NotFound(f"No job {key} in this build.")
    if attempt is None or not 1 <= attempt <= job.attempt:
        attempt = job.attempt
    return job, attempt
