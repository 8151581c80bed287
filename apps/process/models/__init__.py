"""Models of the process app: pipelines and their versions (builds are added beside them)."""
from apps.process.models.pipeline import Pipeline, PipelineVersion

__all__ = ["Pipeline", "PipelineVersion"]
