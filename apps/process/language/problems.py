"""Problems: what the language reports about a pipeline, each pinned to a line and column."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a pipeline. `path` is a dotted location ("jobs.build.steps[0].run");
    `line` and `column` are 1-based (0 when the problem has no place in the file)."""

    path: str
    line: int
    column: int
    message: str


class PipelineError(Exception):
    """Raised by `compile_pipeline` with every problem found."""

    def __init__(self, problems: list[Problem], filename: str = "pipeline.yml"):
        self.problems = list(problems)
        self.filename = filename
        super().__init__("\n".join(format_problem(problem, filename) for problem in self.problems))


def format_problem(problem: Problem, filename: str = "pipeline.yml") -> str:
    return f"{filename}:{problem.line}:{problem.column}: {problem.message}"


def sorted_problems(problems: list[Problem]) -> list[Problem]:
    """Problems in file order, each reported once."""
    unique = dict.fromkeys(problems)
    return sorted(unique, key=lambda problem: (problem.line, problem.column, problem.path, problem.message))
