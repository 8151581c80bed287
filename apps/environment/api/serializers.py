"""Shapes of agents, node groups and registration tokens in the user-facing REST API."""

from rest_framework import serializers

from apps.environment.models import Agent, NodeGroup, RegistrationToken
from apps.environment.validators import validate_env, validate_labels


class NodeGroupChoiceField(serializers.PrimaryKeyRelatedField):
    """Node groups by id, limited to the project in the serializer's context."""

    def get_queryset(self):
        project = self.context.get("project")
        return NodeGroup.objects.filter(project=project) if project is not None else NodeGroup.objects.none()


class NodeGroupSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = NodeGroup
        fields = ["id", "name"]


class AgentSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    shared = serializers.BooleanField(source="is_shared", read_only=True)
    status = serializers.CharField(source="current_status", read_only=True)
    is_online = serializers.BooleanField(read_only=True)
    labels = serializers.ListField(child=serializers.CharField(max_length=100), validators=[validate_labels])
    node_groups = NodeGroupChoiceField(many=True, required=False)
    node_group_names = serializers.SerializerMethodField()

    class Meta:
        model = Agent
        fields = [
            "id",
            "name",
            "project",
            "shared",
            "status",
            "is_online",
            "enabled",
            "labels",
            "slots",
            "node_groups",
            "node_group_names",
            "hostname",
            "os",
            "arch",
            "version",
            "last_heartbeat_at",
            "created_at",
        ]
        read_only_fields = ["hostname", "os", "arch", "version", "last_heartbeat_at", "created_at"]
        extra_kwargs = {"slots": {"min_value": 1, "max_value": 1000}}

    def get_node_group_names(self, agent) -> list[str]:
        return sorted(group.name for group in agent.node_groups.all())


class AgentCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    labels = serializers.ListField(child=serializers.CharField(max_length=100), required=False, default=list)
    slots = serializers.IntegerField(min_value=1, max_value=1000, default=1)
    node_groups = NodeGroupChoiceField(many=True, required=False, default=list)


class NodeGroupSerializer(serializers.ModelSerializer):
    env = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False, validators=[validate_env]
    )
    agent_count = serializers.SerializerMethodField()

    class Meta:
        model = NodeGroup
        fields = ["id", "name", "env_type", "description", "env", "agent_count", "created_at"]
        read_only_fields = ["created_at"]

    def get_agent_count(self, group) -> int:
        annotated = getattr(group, "agent_count", None)
        return annotated if annotated is not None else group.agents.count()


class RegistrationTokenSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    agent = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    state = serializers.CharField(read_only=True)
    node_groups = NodeGroupChoiceField(many=True, required=False, default=list)
    labels = serializers.ListField(
        child=serializers.CharField(max_length=100),
        required=False,
        default=list,
        validators=[validate_labels],
    )
    expires_in_hours = serializers.IntegerField(min_value=1, max_value=720, default=24, write_only=True)

    class Meta:
        model = RegistrationToken
        fields = [
            "id",
            "hint",
            "state",
            "labels",
            "slots",
            "node_groups",
            "expires_in_hours",
            "expires_at",
            "used_at",
            "agent",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["hint", "expires_at", "used_at", "created_at"]
        extra_kwargs = {"slots": {"min_value": 1, "max_value": 1000}}


class RegistrationTokenCreatedSerializer(RegistrationTokenSerializer):
    """The answer to a create: the only time the plaintext token and its install command are shown."""

    token = serializers.CharField(read_only=True)
    install_command = serializers.CharField(read_only=True)

    class Meta(RegistrationTokenSerializer.Meta):
        fields = [*RegistrationTokenSerializer.Meta.fields, "token", "install_command"]
