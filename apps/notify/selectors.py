"""Reads of notification settings, subscriptions and deliveries, scoped to what the caller may see:
a pipeline's settings and deliveries are for its project's maintainers, subscriptions for their owner."""

from django.db.models import QuerySet

from apps.core.choices import Role
from apps.core.errors import NotFound
from apps.core.permissions import require_role
from apps.core.selectors import project_list_for_user
from apps.notify.models import Delivery, DeliveryAttempt, PipelineNotification, Subscription
from apps.process.language import PipelineError, compile_pipeline
from apps.process.selectors import pipeline_list_for_user


def notification_setting_list(pipeline) -> QuerySet[PipelineNotification]:
    return PipelineNotification.objects.filter(pipeline=pipeline).order_by("id")


def notification_setting_get(pipeline, setting_id) -> PipelineNotification:
    setting = notification_setting_list(pipeline).filter(id=setting_id).first()
    if setting is None:
        raise NotFound("Notification setting not found.")
    setting.pipeline = pipeline
    return setting


def pipeline_require_manager(user, pipeline) -> None:
    require_role(user, pipeline.project, Role.MAINTAINER)


def pipeline_notices(pipeline) -> list[dict]:
    """The `notices:` of the pipeline's current YAML, compiled (none when it does not compile)."""
    if not pipeline.current_yaml:
        return []
    try:
        return compile_pipeline(pipeline.current_yaml).get("notices") or []
    except PipelineError:
        return []


def subscription_list_for_user(user) -> QuerySet[Subscription]:
    """The user's subscriptions to projects they may still see."""
    projects = project_list_for_user(user).values("pk")
    return (
        Subscription.objects.filter(user=user, project__in=projects)
        .select_related("project", "pipeline")
        .order_by("project__slug", "pipeline__slug", "id")
    )


def subscription_get_for_user(user, subscription_id) -> Subscription:
    subscription = subscription_list_for_user(user).filter(id=subscription_id).first()
    if subscription is None:
        raise NotFound("Subscription not found.")
    return subscription


def subscribable_pipelines(user) -> QuerySet:
    return pipeline_list_for_user(user).filter(is_archived=False).order_by("project__slug", "slug")


def delivery_list(pipeline) -> QuerySet[Delivery]:
    return Delivery.objects.filter(pipeline=pipeline).select_related("build").order_by("-id")


def delivery_get(pipeline, delivery_id) -> Delivery:
    delivery = delivery_list(pipeline).filter(id=delivery_id).first()
    if delivery is None:
        raise NotFound("Delivery not found.")
    return delivery


def delivery_attempts(delivery: Delivery) -> QuerySet[DeliveryAttempt]:
    return DeliveryAttempt.objects.filter(delivery=delivery).order_by("number")
