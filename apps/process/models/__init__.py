"""Models of the process app: pipelines and their versions, builds and their runs."""
from apps.process.models.build import Build, JobRun, StageRun, StepRun
from apps.process.models.pipeline import Pipeline, PipelineVersion

__all__ = ["Build", "JobRun", "Pipeline", "PipelineVersion", "StageRun", "StepRun"]
