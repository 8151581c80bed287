"""The `needs` graph of a stage: every need names a job of the same stage, and there are no cycles."""

from __future__ import annotations

from dataclasses import dataclass

from .schema import Reader, suggest
from .yaml_source import YNode


@dataclass(frozen=True)
class Need:
    job: str
    node: YNode


def check_needs(
    reader: Reader, needs: dict[str, list[Need]], stage_of: dict[str, str]
) -> dict[str, list[str]]:
    """Report needs that name a missing job, another stage's job or the job itself, and each cycle.
    `needs` maps the stage's job ids (in order) to what they need; `stage_of` maps every job id of
    the pipeline to its stage's name. Returns the needs that are valid edges."""
    edges: dict[str, list[Need]] = {}
    for job, wanted in needs.items():
        edges[job] = []
        for need in wanted:
            if need.job == job:
                reader.report(need.node, f"job '{job}' needs itself")
            elif need.job in needs:
                edges[job].append(need)
            elif need.job in stage_of:
                reader.report(need.node, _other_stage(need.job, stage_of[need.job]))
            else:
                reader.report(need.node, f"needs '{need.job}', which is not a job{suggest(need.job, needs)}")
    for cycle, first in find_cycles(edges):
        reader.report(first.node, "cycle: " + " -> ".join(cycle))
    return {job: list(dict.fromkeys(need.job for need in wanted)) for job, wanted in edges.items()}


def _other_stage(job: str, stage: str) -> str:
    return (
        f"needs '{job}', a job of stage '{stage}'; needs names jobs of the same stage "
        f"(read an earlier stage's results through jobs.{job})"
    )


def find_cycles(edges: dict[str, list[Need]]) -> list[tuple[list[str], Need]]:
    """Each cycle once, as the job ids along it (first repeated at the end) and its first edge.
    Iterative depth-first search, so a long chain of needs cannot exhaust the stack."""
    state: dict[str, str] = {}
    cycles: list[tuple[list[str], Need]] = []
    seen: set[frozenset[str]] = set()
    for root in edges:
        if root in state:
            continue
        state[root] = "open"
        path: list[tuple[str, Need | None]] = [(root, None)]
        pending = [iter(edges.get(root, []))]
        while pending:
            need = next(pending[-1], None)
            if need is None:
                state[path.pop()[0]] = "done"
                pending.pop()
            elif state.get(need.job) == "open":
                start = next(index for index, (name, _) in enumerate(path) if name == need.job)
                names = [name for name, _ in path[start:]]
                if frozenset(names) not in seen:
                    seen.add(frozenset(names))
                    first = path[start + 1][1] if start + 1 < len(path) else need
                    cycles.append(([*names, need.job], first))
            elif need.job not in state:
                state[need.job] = "open"
                path.append((need.job, need))
                pending.append(iter(edges.get(need.job, [])))
    return cycles
