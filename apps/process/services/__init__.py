"""Writes of the process app: pipelines (`pipelines`), builds (`builds`), the engine's persistence
(`engine`) and the jobs agents run (`jobs`)."""
from apps.process.services.pipelines import (
    pipeline_archive,
    pipeline_create,
    pipeline_repository_update,
    pipeline_restore,
    pipeline_update,
    pipeline_version_create,
    pipeline_yaml_check,
    yaml_sha256,
)

__all__ = [
    "pipeline_archive",
    "pipeline_create",
    "pipeline_repository_update",
    "pipeline_restore",
    "pipeline_update",
    "pipeline_version_create",
    "pipeline_yaml_check",
    "yaml_sha256",
]
