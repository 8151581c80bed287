"""The build page's stage/job graph: each stage's job groups laid out in columns by `needs` depth,
each group with the job ids it needs (read from the build's Plan, never the YAML)."""

from apps.process.models import Build, StageRun


def plan_needs(plan: dict) -> dict[int, dict[str, list[str]]]:
    """{stage index: {job id: [job ids it needs]}} from a Plan."""
    needs: dict[int, dict[str, list[str]]] = {}
    for position, stage in enumerate(plan.get("stages") or []):
        by_id = needs.setdefault(stage.get("index", position), {})
        for job in stage.get("jobs") or []:
            by_id.setdefault(job["id"], list(job.get("needs") or []))
    return needs


def needs_depths(needs: dict[str, list[str]]) -> dict[str, int]:
    """How many `needs` hops each job id is from a job that needs nothing (of the same stage)."""
    depths: dict[str, int] = {}

    def depth(job_id: str, seen: frozenset = frozenset()) -> int:
        if job_id in depths:
            return depths[job_id]
        parents = [parent for parent in needs.get(job_id, []) if parent in needs and parent not in seen]
        value = 1 + max((depth(parent, seen | {job_id}) for parent in parents), default=-1)
        depths[job_id] = value
        return value

    for job_id in needs:
        depth(job_id)
    return depths


def build_graph_columns(*, build: Build, stages: list[StageRun]) -> list[StageRun]:
    """Sets `stage.columns` (lists of job groups, one list per depth) and `group.needs` on stages
    read with `build_stages`; returns the stages."""
    needs_by_stage = plan_needs(build.plan or {})
    for stage in stages:
        needs = needs_by_stage.get(stage.index, {})
        depths = needs_depths(needs)
        columns: dict[int, list] = {}
        for group in stage.job_groups:
            group.needs = [parent for parent in needs.get(group.job_id, []) if parent in needs]
            columns.setdefault(depths.get(group.job_id, 0), []).append(group)
        stage.columns = [columns[depth] for depth in sorted(columns)]
    return stages
