"""Models of the process app: pipelines and their versions, builds and their runs."""
from apps.process.models.build import Build, JobRun, StageRun, StepRun
from apps.process.models.pipeline import Pipeline, PipelineVersion
from apps.process.models.review import ReviewStatus, StageReview
from apps.process.models.trigger import PipelineSchedule, RemoteTriggerToken

__all__ = ["Build", "JobRun", "Pipeline", "PipelineVersion", "StageRun", "StepRun"]
__all__ += ["PipelineSchedule", "RemoteTriggerToken"]
__all__ += ["ReviewStatus", "StageReview"]
