"""The pipeline language: YAML -> validated, compiled Plan. Pure Python (no Django, Celery or network).

    problems = validate(text)                        # every problem at once, never raises
    plan = compile_pipeline(text, trigger=TriggerEvent(event="push", ref="refs/heads/main"))
    ok, reason = trigger_matches(plan, event)

The Plan's format is docs/plan-format.md; the language is /work/shared/PIPELINE_LANGUAGE.md.
"""

from __future__ import annotations

from .compiler import compile_pipeline, validate
from .contexts import static_contexts
from .matrix import MatrixError, expand_matrix
from .plan import PLAN_FORMAT_VERSION, expand_deferred_job
from .problems import PipelineError, Problem, format_problem
from .triggers import TriggerEvent, trigger_matches

__all__ = [
    "PLAN_FORMAT_VERSION",
    "MatrixError",
    "PipelineError",
    "Problem",
    "TriggerEvent",
    "compile_pipeline",
    "expand_deferred_job",
    "expand_matrix",
    "format_problem",
    "static_contexts",
    "trigger_matches",
    "validate",
]
