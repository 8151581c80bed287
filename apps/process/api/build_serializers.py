"""Builds, their stages, jobs, steps and log pages over the REST API (shapes only)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.log.lines import line_payload
from apps.process.models import Build, JobRun, StageReview, StageRun, StepRun
from apps.process.selectors_builds import build_actor, duration_seconds, trigger_branch, trigger_tag


class DurationMixin(serializers.Serializer):
    duration = serializers.SerializerMethodField(help_text="Seconds from start to finish (or to now).")

    def get_duration(self, obj) -> float | None:
        return duration_seconds(obj.started_at, obj.finished_at)


class StepRunSerializer(DurationMixin, serializers.ModelSerializer):
    class Meta:
        model = StepRun
        fields = [
            "index",
            "step_id",
            "name",
            "status",
            "outcome",
            "conclusion",
            "exit_code",
            "attempt",
            "reason",
            "started_at",
            "finished_at",
            "duration",
        ]
        read_only_fields = fields


class JobRunSerializer(DurationMixin, serializers.ModelSerializer):
    agent = serializers.SlugRelatedField(
        slug_field="name", read_only=True, allow_null=True, help_text="Name of the agent."
    )
    steps = StepRunSerializer(source="step_list", many=True, read_only=True, help_text="Current attempt.")

    class Meta:
        model = JobRun
        fields = [
            "key",
            "job_id",
            "name",
            "matrix",
            "labels",
            "pool",
            "agent",
            "status",
            "reason",
            "attempt",
            "cancel_requested",
            "outputs",
            "queued_at",
            "started_at",
            "finished_at",
            "duration",
            "steps",
        ]
        read_only_fields = fields


class StageRunSerializer(DurationMixin, serializers.ModelSerializer):
    id = serializers.CharField(source="stage_id", read_only=True)
    jobs = JobRunSerializer(source="job_list", many=True, read_only=True)

    class Meta:
        model = StageRun
        fields = ["index", "id", "name", "is_finally", "status", "reason", "started_at", "finished_at",
                  "duration", "jobs"]
        read_only_fields = fields


class BuildSerializer(DurationMixin, serializers.ModelSerializer):
    version = serializers.IntegerField(source="version.number", read_only=True)
    event = serializers.SerializerMethodField()
    ref = serializers.SerializerMethodField()
    branch = serializers.SerializerMethodField()
    tag = serializers.SerializerMethodField()
    sha = serializers.SerializerMethodField()
    actor = serializers.SerializerMethodField(help_text="Who started the build (username).")

    class Meta:
        model = Build
        fields = [
            "number",
            "status",
            "reason",
            "attempt",
            "event",
            "ref",
            "branch",
            "tag",
            "sha",
            "actor",
            "version",
            "concurrency_group",
            "created_at",
            "started_at",
            "finished_at",
            "cancel_requested_at",
            "duration",
        ]
        read_only_fields = fields

    def get_event(self, build) -> str:
        return build.trigger.get("event") or ""

    def get_ref(self, build) -> str:
        return build.trigger.get("ref") or ""

    def get_branch(self, build) -> str:
        return trigger_branch(build.trigger)

    def get_tag(self, build) -> str:
        return trigger_tag(build.trigger)

    def get_sha(self, build) -> str:
        return build.trigger.get("sha") or ""

    def get_actor(self, build) -> str:
        return build_actor(build)


class StageReviewSerializer(serializers.ModelSerializer):
    decided_by = serializers.CharField(source="decided_by.username", read_only=True, default=None)

    class Meta:
        model = StageReview
        fields = ["stage_index", "status", "reviewers", "description", "inputs", "values", "comment",
                  "decided_by", "requested_at", "deadline", "decided_at"]
        read_only_fields = fields


class BuildDetailSerializer(BuildSerializer):
    stages = StageRunSerializer(source="stage_list", many=True, read_only=True)
    reviews = StageReviewSerializer(source="review_list", many=True, read_only=True)

    class Meta(BuildSerializer.Meta):
        fields = [*BuildSerializer.Meta.fields, "inputs", "variables", "trigger", "stages", "reviews"]
        read_only_fields = fields


class ReviewDecisionSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    values = serializers.DictField(
        required=False, default=dict, help_text="Values of the review's inputs by name (approve only)."
    )


class GateOverrideSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=2000, help_text="Why the blocked gate may be let through.")


class BuildTriggerSerializer(serializers.Serializer):
    inputs = serializers.DictField(
        required=False,
        default=dict,
        help_text="Values of the pipeline's manual inputs by name; text such as 'true' or '3' is converted "
        "to the input's type.",
    )
    variables = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False, default=dict,
        help_text="Variables that override the YAML's, as text.",
    )
    branch = serializers.CharField(max_length=200, default="main")
    sha = serializers.CharField(max_length=64, allow_blank=True, default="")


class BuildRetrySerializer(serializers.Serializer):
    only_failed = serializers.BooleanField(
        default=False, help_text="Run again only the jobs that did not succeed (and the finally stage)."
    )


class LogQuerySerializer(serializers.Serializer):
    after = serializers.IntegerField(min_value=0, default=0, help_text="Lines after this sequence number.")
    limit = serializers.IntegerField(min_value=1, max_value=5000, default=1000)
    attempt = serializers.IntegerField(min_value=1, required=False, help_text="Default: the current attempt.")


class LogLineSerializer(serializers.Serializer):
    seq = serializers.IntegerField(help_text="Line number from 1; gaps only where the line budget dropped.")
    ts = serializers.DateTimeField(source="timestamp")
    step = serializers.IntegerField(allow_null=True, help_text="Index of the step that wrote the line.")
    stream = serializers.CharField(help_text="`stdout` (the step's output) or `system` (the agent's).")
    level = serializers.CharField(help_text='"error", "warning" (from `::error`/`##[error]` markers) or "".')
    text = serializers.CharField()


@extend_schema_field(LogLineSerializer(many=True))
class LogLinesField(serializers.Field):
    """Lines shaped as LogLineSerializer says, without its per-field cost (pages hold 5,000 lines)."""

    def to_representation(self, value):
        return [line_payload(line) for line in value]


class LogPageSerializer(serializers.Serializer):
    lines = LogLinesField()
    attempt = serializers.IntegerField()
    next_after = serializers.IntegerField(help_text="Pass as `after` to get the following lines.")
    complete = serializers.BooleanField(help_text="The attempt is over and every line has been returned.")
    total_lines = serializers.IntegerField(help_text="The highest line number stored so far.")


class LogSearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(max_length=1000, trim_whitespace=False, help_text="Text (or regex) to find.")
    regex = serializers.BooleanField(default=False, help_text="Treat `q` as a regular expression.")
    attempt = serializers.IntegerField(min_value=1, required=False, help_text="Default: the current attempt.")
    after = serializers.IntegerField(
        min_value=0, default=0, help_text="Only lines after this seq (the next page of a truncated answer)."
    )


class LogMatchSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    text = serializers.CharField()


class LogSearchSerializer(serializers.Serializer):
    matches = LogMatchSerializer(many=True)
    truncated = serializers.BooleanField(help_text="More than the 1,000 matches returned exist.")


class BuildLogMatchSerializer(LogMatchSerializer):
    job = serializers.CharField(help_text="Key of the job the line belongs to.")


class BuildLogSearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(max_length=1000, trim_whitespace=False, help_text="Text (or regex) to find.")
    regex = serializers.BooleanField(default=False, help_text="Treat `q` as a regular expression.")


class BuildLogSearchSerializer(serializers.Serializer):
    matches = BuildLogMatchSerializer(many=True)
    truncated = serializers.BooleanField(help_text="More than the 1,000 matches returned exist.")


class LogDownloadQuerySerializer(serializers.Serializer):
    attempt = serializers.IntegerField(min_value=1, required=False, help_text="Default: the current attempt.")


class BuildLogDownloadQuerySerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=["zip", "tar.gz"], default="zip")
